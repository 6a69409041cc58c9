//! Redis's glob-style matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.

/// Whether `string` matches `pattern`; `nocase` compares ASCII letters case-insensitively.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Redis bounds the recursion of `*` the same way (nesting), so a hostile pattern cannot
    // blow the stack; we cap it at the same depth.
    match_from(pattern, string, nocase, 0).unwrap_or(false)
}

fn fold(c: u8, nocase: bool) -> u8 {
    if nocase { c.to_ascii_lowercase() } else { c }
}

/// `None` when the nesting limit was hit (no match).
fn match_from(mut p: &[u8], mut s: &[u8], nocase: bool, depth: u32) -> Option<bool> {
    if depth > 1000 {
        return None;
    }
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.get(1) == Some(&b'*') {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return Some(true);
                }
                for start in 0..=s.len() {
                    if match_from(&p[1..], &s[start..], nocase, depth + 1)? {
                        return Some(true);
                    }
                }
                return Some(false);
            }
            b'?' => {
                if s.is_empty() {
                    return Some(false);
                }
                s = &s[1..];
            }
            b'[' => {
                let Some(&c) = s.first() else {
                    return Some(false);
                };
                p = &p[1..];
                let negate = p.first() == Some(&b'^');
                if negate {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    match p {
                        [] => break,
                        [b'\\', escaped, ..] => {
                            if *escaped == c {
                                matched = true;
                            }
                            p = &p[2..];
                            continue;
                        }
                        [b']', ..] => break,
                        [lo, b'-', hi, ..] => {
                            let (mut start, mut end) = (fold(*lo, nocase), fold(*hi, nocase));
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            let folded = fold(c, nocase);
                            if folded >= start && folded <= end {
                                matched = true;
                            }
                            p = &p[3..];
                            continue;
                        }
                        [x, ..] => {
                            if fold(*x, nocase) == fold(c, nocase) {
                                matched = true;
                            }
                            p = &p[1..];
                        }
                    }
                }
                if matched == negate {
                    return Some(false);
                }
                s = &s[1..];
                // `p` is at the closing ']' (or empty when the set was never closed).
                if p.is_empty() {
                    return Some(s.is_empty());
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                match s.first() {
                    Some(&c) if fold(c, nocase) == fold(p[0], nocase) => s = &s[1..],
                    _ => return Some(false),
                }
            }
            _ => match s.first() {
                Some(&c) if fold(c, nocase) == fold(pc, nocase) => s = &s[1..],
                _ => return Some(false),
            },
        }
        p = &p[1..];
    }
    Some(s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::string_match;

    #[test]
    fn globs_match_like_redis() {
        assert!(string_match(b"*", b"anything", true));
        assert!(string_match(b"max*", b"maxmemory", true));
        assert!(string_match(b"MAX*", b"maxmemory", true));
        assert!(!string_match(b"MAX*", b"maxmemory", false));
        assert!(string_match(b"*of", b"replicaof", true));
        assert!(string_match(b"h?", b"hz", true));
        assert!(string_match(b"[a-c]x", b"bx", true));
        assert!(!string_match(b"[^a-c]x", b"bx", true));
        assert!(string_match(b"a\\*", b"a*", true));
        assert!(!string_match(b"a\\*", b"ab", true));
        assert!(!string_match(b"port", b"ports", true));
        assert!(string_match(b"", b"", true));
    }
}
