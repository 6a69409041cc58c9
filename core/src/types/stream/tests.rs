use super::*;

const LIMITS: StreamNodeLimits = StreamNodeLimits {
    max_bytes: 4096,
    max_entries: 3,
};

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn filled(n: u64) -> Stream {
    let mut s = Stream::new();
    for i in 1..=n {
        let value = i.to_string();
        s.append(id(i, 0), &[(b"f", value.as_bytes())], LIMITS);
    }
    s
}

fn ids(entries: impl Iterator<Item = StreamEntry<'static>>) -> Vec<u64> {
    entries.map(|e| e.id().ms).collect()
}

#[test]
fn ids_step_and_print_like_redis() {
    assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.next(), None);
    assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::MIN.prev(), None);
    assert_eq!(id(5, 7).to_string(), "5-7");
}

#[test]
fn ranges_cross_nodes_both_ways() {
    let s: &'static Stream = Box::leak(Box::new(filled(10)));
    assert_eq!(s.node_count(), 4);
    assert_eq!(ids(s.range(id(2, 0), id(8, 0))), vec![2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        ids(s.range_rev(id(2, 0), id(8, 0))),
        vec![8, 7, 6, 5, 4, 3, 2]
    );
    assert_eq!(ids(s.range(id(8, 0), id(2, 0))), Vec::<u64>::new());
    let e = s.get(id(4, 0)).expect("entry");
    assert_eq!(
        e.fields().collect::<Vec<_>>(),
        vec![(b"f".as_slice(), b"4".as_slice())]
    );
}

#[test]
fn delete_marks_and_keeps_the_ids_right() {
    let mut s = filled(4);
    assert!(s.delete(id(1, 0)));
    assert!(!s.delete(id(1, 0)));
    assert_eq!(
        (s.len(), s.first_id(), s.max_deleted_entry_id()),
        (3, id(2, 0), id(1, 0))
    );
    assert!(s.delete(id(2, 0)));
    assert!(s.delete(id(3, 0)));
    // The first node is gone once all its entries are.
    assert_eq!(s.node_count(), 1);
    assert!(s.delete(id(4, 0)));
    assert_eq!(
        (s.len(), s.first_id(), s.last_id()),
        (0, StreamId::MIN, id(4, 0))
    );
    assert_eq!(s.entries_added(), 4);
}

#[test]
fn trimming_follows_redis() {
    let mut s = filled(10);
    let approx = Trim {
        strategy: TrimStrategy::MaxLen(5),
        approx: true,
        limit: 0,
    };
    // Whole nodes only: the first (3) goes, the second would leave 4 < 5.
    assert_eq!(s.trim(approx), 3);
    let exact = Trim {
        strategy: TrimStrategy::MaxLen(5),
        approx: false,
        limit: 0,
    };
    assert_eq!(s.trim(exact), 2);
    assert_eq!(s.first_id(), id(6, 0));
    let minid = Trim {
        strategy: TrimStrategy::MinId(id(9, 0)),
        approx: false,
        limit: 0,
    };
    assert_eq!(s.trim(minid), 3);
    assert_eq!(
        s.entries().map(|e| e.id().ms).collect::<Vec<_>>(),
        vec![9, 10]
    );
}

#[test]
fn groups_track_pending_entries_per_consumer() {
    let mut g = ConsumerGroup::new(StreamId::MIN, Some(0));
    assert!(g.create_consumer(b"alice", 10));
    assert!(!g.create_consumer(b"alice", 10));
    g.create_consumer(b"bob", 10);
    g.assign(id(1, 0), b"alice", 20, 1);
    g.assign(id(2, 0), b"alice", 20, 1);
    g.assign(id(1, 0), b"bob", 30, 2);
    assert_eq!(g.consumer(b"alice").map(|c| c.pending().len()), Some(1));
    assert_eq!(
        g.pending(id(1, 0)).map(|p| p.consumer.clone()),
        Some(Bytes::from_static(b"bob"))
    );
    assert!(g.acknowledge(id(1, 0)));
    assert!(!g.acknowledge(id(1, 0)));
    assert_eq!(g.delete_consumer(b"alice"), Some(1));
    assert!(g.pel().is_empty());
}
