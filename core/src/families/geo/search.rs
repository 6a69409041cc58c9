//! The search commands: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the `_RO`
//! forms, one parser and one search as Redis's `georadiusGeneric`: options in any order with
//! its precedence of errors, the 3x3 cells scanned as score ranges, the reply sorted (stably)
//! or partially sorted with Redis's own partial quicksort when COUNT cuts the result, so ties
//! come out in the same order.

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::geohash::{self, Cell, Search, Shape};
use super::{coordinate_reply, distance_reply, parse_lon_lat, parse_unit};
use crate::command::{Args, CommandResult, parse_f64, parse_i64};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::geo::{
    ANY_NEEDS_COUNT, BOX_NEGATIVE, COUNT_POSITIVE, HEIGHT_NOT_NUMERIC, MEMBER_NOT_FOUND,
    RADIUS_NEGATIVE, RADIUS_NOT_NUMERIC, SEARCHSTORE_WITH_OPTIONS, STORE_WITH_OPTIONS,
    WIDTH_NOT_NUMERIC, need_one_by, need_one_from,
};
use crate::events::class;
use crate::families::count_reply;
use crate::families::sorted_set::limits;
use crate::families::sorted_set::range::{ScoreRange, score_ranks};
use crate::types::{SortedSet, Value};

/// Which command is parsing: what its fixed arguments are and which options it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Radius,
    RadiusRo,
    ByMember,
    ByMemberRo,
    Search,
    SearchStore,
}

impl Variant {
    /// GEOSEARCH and GEOSEARCHSTORE: FROM*/BY* options, no STORE option.
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    /// The `_RO` forms refuse STORE and STOREDIST.
    fn takes_store(self) -> bool {
        matches!(self, Variant::Radius | Variant::ByMember)
    }
}

pub(super) fn georadius(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    search(ctx, args, Variant::Radius)
}

pub(super) fn georadius_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    search(ctx, args, Variant::RadiusRo)
}

pub(super) fn georadiusbymember(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
) -> CommandResult {
    search(ctx, args, Variant::ByMember)
}

pub(super) fn georadiusbymember_ro(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
) -> CommandResult {
    search(ctx, args, Variant::ByMemberRo)
}

pub(super) fn geosearch(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    search(ctx, args, Variant::Search)
}

pub(super) fn geosearchstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    search(ctx, args, Variant::SearchStore)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Asc,
    Desc,
}

/// A match: its decoded position, distance from the centre in meters, score and member.
#[derive(Debug, Clone)]
struct Point {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// Everything the options say.
#[derive(Debug, Default)]
struct Options {
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    count: usize,
    store: Option<Bytes>,
    store_dist: bool,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

/// Meters per unit and the radius, from `radius unit`.
fn parse_radius(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CommandError> {
    let radius = parse_f64(radius).ok_or(CommandError::msg(RADIUS_NOT_NUMERIC))?;
    if radius < 0.0 {
        return Err(CommandError::msg(RADIUS_NEGATIVE));
    }
    Ok((radius, parse_unit(unit)?))
}

/// Width, height and meters per unit, from `width height unit`.
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<Shape, CommandError> {
    let width = parse_f64(width).ok_or(CommandError::msg(WIDTH_NOT_NUMERIC))?;
    let height = parse_f64(height).ok_or(CommandError::msg(HEIGHT_NOT_NUMERIC))?;
    if height < 0.0 || width < 0.0 {
        return Err(CommandError::msg(BOX_NEGATIVE));
    }
    parse_unit(unit)?;
    Ok(Shape::Box { width, height })
}

/// The position of `member` in the set at `pos`, or "could not decode requested zset member".
fn member_position(
    ctx: &mut CommandContext<'_>,
    pos: usize,
    member: &[u8],
) -> Result<(f64, f64), CommandError> {
    let zset = ctx.db().entry(pos).value.as_sorted_set()?;
    let score = zset
        .score(member)
        .ok_or(CommandError::msg(MEMBER_NOT_FOUND))?;
    Ok(geohash::decode_score(score))
}

fn search(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, variant: Variant) -> CommandResult {
    let argv = args.argv();
    args.rest();
    let src = &argv[if variant == Variant::SearchStore {
        2
    } else {
        1
    }];
    let pos = ctx.lookup_read(src);
    if let Some(pos) = pos {
        ctx.db().entry(pos).value.as_sorted_set()?;
    }

    let mut opts = Options::default();
    let mut centre = (0.0, 0.0);
    let mut shape = Shape::Circle { radius: 0.0 };
    let mut conversion = 1.0;
    // The fixed arguments; GEORADIUSBYMEMBER on a missing key reads only the options, to know
    // which empty reply to give.
    let base = match variant {
        Variant::Radius | Variant::RadiusRo => {
            centre = parse_lon_lat(&argv[2], &argv[3])?;
            let (radius, unit) = parse_radius(&argv[4], &argv[5])?;
            (shape, conversion) = (Shape::Circle { radius }, unit);
            6
        }
        Variant::ByMember | Variant::ByMemberRo => {
            if let Some(pos) = pos {
                centre = member_position(ctx, pos, &argv[2])?;
                let (radius, unit) = parse_radius(&argv[3], &argv[4])?;
                (shape, conversion) = (Shape::Circle { radius }, unit);
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            opts.store = Some(argv[1].clone());
            3
        }
    };

    let mut order = Order::None;
    let mut i = base;
    while i < argv.len() {
        let arg = &argv[i];
        let left = argv.len() - i - 1;
        let is = |name: &str| arg.eq_ignore_ascii_case(name.as_bytes());
        if is("withdist") {
            opts.with_dist = true;
        } else if is("withhash") {
            opts.with_hash = true;
        } else if is("withcoord") {
            opts.with_coord = true;
        } else if is("any") {
            opts.any = true;
        } else if is("asc") {
            order = Order::Asc;
        } else if is("desc") {
            order = Order::Desc;
        } else if is("count") && left >= 1 {
            let count = parse_i64(&argv[i + 1])?;
            opts.count = usize::try_from(count)
                .ok()
                .filter(|&c| c > 0)
                .ok_or(CommandError::msg(COUNT_POSITIVE))?;
            i += 1;
        } else if (is("store") || is("storedist")) && left >= 1 && variant.takes_store() {
            opts.store = Some(argv[i + 1].clone());
            opts.store_dist = is("storedist");
            i += 1;
        } else if is("storedist") && variant == Variant::SearchStore {
            opts.store_dist = true;
        } else if is("frommember") && left >= 1 && variant.is_search() && !opts.from_lonlat {
            if let Some(pos) = pos {
                centre = member_position(ctx, pos, &argv[i + 1])?;
            }
            opts.from_member = true;
            i += 1;
        } else if is("fromlonlat") && left >= 2 && variant.is_search() && !opts.from_member {
            centre = parse_lon_lat(&argv[i + 1], &argv[i + 2])?;
            opts.from_lonlat = true;
            i += 2;
        } else if is("byradius") && left >= 2 && variant.is_search() && !opts.by_box {
            let (radius, unit) = parse_radius(&argv[i + 1], &argv[i + 2])?;
            (shape, conversion) = (Shape::Circle { radius }, unit);
            opts.by_radius = true;
            i += 2;
        } else if is("bybox") && left >= 3 && variant.is_search() && !opts.by_radius {
            shape = parse_box(&argv[i + 1], &argv[i + 2], &argv[i + 3])?;
            conversion = parse_unit(&argv[i + 3])?;
            opts.by_box = true;
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }

    if opts.store.is_some() && (opts.with_dist || opts.with_hash || opts.with_coord) {
        return Err(CommandError::msg(if variant == Variant::SearchStore {
            SEARCHSTORE_WITH_OPTIONS
        } else {
            STORE_WITH_OPTIONS
        }));
    }
    // Redis names the command as the client spelled it.
    let name = String::from_utf8_lossy(&argv[0]);
    if variant.is_search() && !(opts.from_member || opts.from_lonlat) {
        return Err(CommandError::custom(need_one_from(&name)));
    }
    if variant.is_search() && !(opts.by_radius || opts.by_box) {
        return Err(CommandError::custom(need_one_by(&name)));
    }
    if opts.any && opts.count == 0 {
        return Err(CommandError::msg(ANY_NEEDS_COUNT));
    }

    let Some(pos) = pos else {
        return Ok(match &opts.store {
            Some(dst) => {
                if ctx.delete(dst) {
                    ctx.notify(class::GENERIC, "del", dst);
                }
                Frame::Integer(0)
            }
            None => Frame::Array(Vec::new()),
        });
    };

    // COUNT without an order means the closest ones (but ANY takes the first found).
    if opts.count != 0 && order == Order::None && !opts.any {
        order = Order::Asc;
    }
    let area = Search {
        lon: centre.0,
        lat: centre.1,
        shape,
        conversion,
    };
    let limit = if opts.any { opts.count } else { 0 };
    let mut points = {
        let zset = ctx.db().entry(pos).value.as_sorted_set()?;
        collect(zset, &area, limit)
    };

    if points.is_empty() && opts.store.is_none() {
        return Ok(Frame::Array(Vec::new()));
    }
    let returned = if opts.count == 0 {
        points.len()
    } else {
        points.len().min(opts.count)
    };
    if order != Order::None {
        let cmp = |a: &Point, b: &Point| {
            let ord = a.dist.total_cmp(&b.dist);
            if order == Order::Desc {
                ord.reverse()
            } else {
                ord
            }
        };
        if returned == points.len() {
            // glibc's qsort is a merge sort: stable.
            points.sort_by(cmp);
        } else {
            partial_sort(&mut points, returned - 1, &cmp);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }

    match &opts.store {
        None => Ok(reply(ctx, points, &opts)),
        Some(dst) => {
            store(ctx, dst, points, &opts, variant.is_search());
            Ok(count_reply(returned))
        }
    }
}

/// The matches in the 3x3 cells, in Redis's scan order; with `limit` (ANY), stops once that
/// many are found.
fn collect(zset: &SortedSet, area: &Search, limit: usize) -> Vec<Point> {
    let cells = area.cells();
    let mut points = Vec::new();
    // Redis skips a cell equal to the one scanned just before it, except after the centre
    // (its "last processed" index 0 doubles as "none yet").
    let mut last = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if geohash::is_skipped(cell) {
            continue;
        }
        if last != 0 && cells[last] == cell {
            continue;
        }
        if limit != 0 && points.len() >= limit {
            break;
        }
        scan_cell(zset, cell, area, &mut points, limit);
        last = i;
    }
    points
}

/// Appends the members of `cell` (a score range) that lie in the area.
fn scan_cell(zset: &SortedSet, cell: Cell, area: &Search, points: &mut Vec<Point>, limit: usize) {
    let (min, max) = cell.score_range();
    let (lo, hi) = score_ranks(
        zset,
        ScoreRange {
            min,
            min_excluded: false,
            max,
            max_excluded: true,
        },
    );
    if lo >= hi {
        return;
    }
    let mut full = false;
    zset.range(lo, hi - 1, false, |member, score| {
        if full {
            return;
        }
        let (lon, lat) = geohash::decode_score(score);
        if let Some(dist) = area.contains(lon, lat) {
            points.push(Point {
                lon,
                lat,
                dist,
                score,
                member: member.to_vec(),
            });
        }
        full = limit != 0 && points.len() >= limit;
    });
}

fn reply(ctx: &CommandContext<'_>, points: Vec<Point>, opts: &Options) -> Frame {
    let resp = ctx.resp();
    let nested = opts.with_dist || opts.with_hash || opts.with_coord;
    Frame::Array(
        points
            .into_iter()
            .map(|p| {
                let member = Frame::Bulk(Bytes::from(p.member));
                if !nested {
                    return member;
                }
                let mut item = vec![member];
                if opts.with_dist {
                    item.push(distance_reply(p.dist));
                }
                if opts.with_hash {
                    // The 52-bit score, as C's (long long) conversion gives it.
                    item.push(Frame::Integer(p.score as i64));
                }
                if opts.with_coord {
                    item.push(Frame::Array(vec![
                        coordinate_reply(resp, p.lon),
                        coordinate_reply(resp, p.lat),
                    ]));
                }
                Frame::Array(item)
            })
            .collect(),
    )
}

/// STORE/STOREDIST/GEOSEARCHSTORE: the matches as a sorted set (scores: hashes or distances
/// in the unit), or `dst` deleted when there are none.
fn store(
    ctx: &mut CommandContext<'_>,
    dst: &[u8],
    points: Vec<Point>,
    opts: &Options,
    search: bool,
) {
    if points.is_empty() {
        if ctx.delete(dst) {
            ctx.notify(class::GENERIC, "del", dst);
        }
        return;
    }
    let stored = points.len();
    let mut pairs: Vec<(Vec<u8>, f64)> = Vec::with_capacity(stored);
    let mut seen = std::collections::HashSet::with_capacity(stored);
    for p in points {
        if seen.insert(p.member.clone()) {
            let score = if opts.store_dist { p.dist } else { p.score };
            pairs.push((p.member, score));
        }
    }
    let (max_entries, max_value) = limits(ctx);
    let zset = SortedSet::from_pairs(pairs, max_entries, max_value);
    ctx.set(dst, Value::SortedSet(Box::new(zset)), Ttl::Clear);
    ctx.notify(
        class::ZSET,
        if search {
            "geosearchstore"
        } else {
            "georadiusstore"
        },
        dst,
    );
    // `set` counted one change; Redis counts one per stored member.
    ctx.changed(u64::try_from(stored - 1).unwrap_or(0));
}

/// Sorts `v` far enough that positions `0..=last` hold what a full sort would put there, in
/// the order Redis's `pqsort` (Bentley-McIlroy quicksort that skips the partitions outside
/// the wanted range) leaves equal elements.
pub(super) fn partial_sort<T>(
    v: &mut [T],
    last: usize,
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    partial_sort_from(v, 0, last, cmp);
}

/// One step on the slice `v`, which starts at position `offset` of the whole array.
fn partial_sort_from<T>(
    mut v: &mut [T],
    mut offset: usize,
    last: usize,
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    loop {
        let n = v.len();
        if n < 7 {
            for m in 1..n {
                let mut l = m;
                while l > 0 && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = median3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = median3(v, pm - d, pm, pm + d, cmp);
                pn = median3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(v, pl, pm, pn, cmp);
        }
        v.swap(0, pm);
        let (mut pa, mut pb) = (1, 1);
        // pc never falls below pb - 1 (at least 0): pb starts at 1.
        let (mut pc, mut pd) = (n - 1, n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[0]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[0]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let r = pa.min(pb - pa);
        swap_blocks(v, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        swap_blocks(v, pb, n - r, r);
        // The elements smaller than the pivot now lead, the larger ones trail.
        let small = pb - pa;
        let large = pd - pc;
        let (head, rest) = std::mem::take(&mut v).split_at_mut(small);
        if small > 1 && offset <= last {
            partial_sort_from(head, offset, last, cmp);
        }
        if large > 1 {
            let start = n - large;
            let tail_offset = offset + start;
            if tail_offset <= last {
                v = &mut rest[start - small..];
                offset = tail_offset;
                continue;
            }
        }
        return;
    }
}

/// Swaps the `n` elements at `a` with the `n` at `b`, pairwise.
fn swap_blocks<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// The position of the median of three, as Bentley-McIlroy's `med3` picks it.
fn median3<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
) -> usize {
    use std::cmp::Ordering::{Greater, Less};
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}
