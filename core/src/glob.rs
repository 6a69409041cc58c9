//! Redis's glob matcher (`stringmatchlen`), shared by KEYS, SCAN MATCH, CONFIG GET, config-file
//! `include` patterns, COMMAND LIST and, later, PSUBSCRIBE and ACL patterns.

/// Whether letters match regardless of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `a` matches only `a` (KEYS, SCAN).
    Sensitive,
    /// `a` matches `A` too (CONFIG GET, COMMAND LIST).
    Insensitive,
}

/// Redis's glob matching (`stringmatchlen`), quirks included: `*` and `?`,
/// `[abc]`, `[^abc]`, `[a-z]` (reversed ranges allowed, bytes compared as signed chars),
/// `\x` escapes, and an unterminated `[` that runs to the end of the pattern. Patterns nesting
/// more than 1000 stars never match, which bounds the work an abusive pattern can cause.
pub fn glob_match(pattern: &[u8], string: &[u8], case: Case) -> bool {
    let mut give_up = false;
    let fold = match case {
        Case::Sensitive => |b: u8| b,
        Case::Insensitive => |b: u8| b.to_ascii_lowercase(),
    };
    glob_match_from(pattern, 0, string, fold, &mut give_up, 0)
}

/// Matches `pattern[p..]` against `string`. `give_up` is set once the rest of the pattern after
/// some `*` has failed at every position: a longer match for an earlier `*` cannot help then.
fn glob_match_from(
    pattern: &[u8],
    mut p: usize,
    mut string: &[u8],
    fold: fn(u8) -> u8,
    give_up: &mut bool,
    nesting: u32,
) -> bool {
    if nesting > 1000 {
        return false;
    }
    // Redis reads one past the end of its NUL-terminated pattern in places; that reads a 0.
    let at = |i: usize| pattern.get(i).copied().unwrap_or(0);
    while p < pattern.len() && !string.is_empty() {
        let c = string[0];
        match pattern[p] {
            b'*' => {
                while at(p + 1) == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                while !string.is_empty() {
                    if glob_match_from(pattern, p + 1, string, fold, give_up, nesting + 1) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    string = &string[1..];
                }
                *give_up = true;
                return false;
            }
            b'?' => {}
            b'[' => {
                p += 1;
                let negated = at(p) == b'^';
                if negated {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let left = pattern.len() - p;
                    if at(p) == b'\\' && left >= 2 {
                        p += 1;
                        matched |= fold(pattern[p]) == fold(c);
                    } else if at(p) == b']' {
                        break;
                    } else if left == 0 {
                        p -= 1;
                        break;
                    } else if left >= 3 && pattern[p + 1] == b'-' {
                        let (mut start, mut end) =
                            (signed(fold(pattern[p])), signed(fold(pattern[p + 2])));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        p += 2;
                        matched |= (start..=end).contains(&signed(fold(c)));
                    } else {
                        matched |= fold(pattern[p]) == fold(c);
                    }
                    p += 1;
                }
                if matched == negated {
                    return false;
                }
            }
            b'\\' => {
                if pattern.len() - p >= 2 {
                    p += 1;
                }
                if fold(pattern[p]) != fold(c) {
                    return false;
                }
            }
            literal => {
                if fold(literal) != fold(c) {
                    return false;
                }
            }
        }
        string = &string[1..];
        p += 1;
        if string.is_empty() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pattern.len() && string.is_empty()
}

/// A byte as C's (signed) `char`, which is how Redis compares range bounds.
fn signed(b: u8) -> i8 {
    i8::from_ne_bytes([b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_follows_stringmatchlen() {
        let yes = |p: &str, s: &str| {
            assert!(
                glob_match(p.as_bytes(), s.as_bytes(), Case::Sensitive),
                "{p} ~ {s}"
            )
        };
        let no = |p: &str, s: &str| {
            assert!(
                !glob_match(p.as_bytes(), s.as_bytes(), Case::Sensitive),
                "{p} !~ {s}"
            )
        };
        yes("*", "anything");
        yes("h?llo", "hello");
        no("h?llo", "hllo");
        yes("h*llo", "heeeello");
        yes("h[ae]llo", "hallo");
        no("h[ae]llo", "hillo");
        yes("h[^e]llo", "hallo");
        no("h[^e]llo", "hello");
        yes("h[a-b]llo", "hbllo");
        yes("h[b-a]llo", "hallo");
        yes("h\\*llo", "h*llo");
        no("h\\*llo", "hello");
        yes("[\\]]", "]");
        yes("a*", "a");
        yes("a**", "a");
        no("**", "");
        yes("", "");
        no("", "a");
        // An unterminated class runs to the end of the pattern.
        yes("[ab", "a");
        yes("[^", "x");
        no("[", "x");
        // A trailing backslash matches itself.
        yes("a\\", "a\\");
        yes("key:1??", "key:123");
        no("key:1??", "key:12");
        no("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &"a".repeat(40));
        no(&"*?".repeat(50_000), &"a".repeat(50_000));
    }

    #[test]
    fn glob_matches_like_redis() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("config|*re*", "config|rewrite", true),
            ("cl*help", "client|help", true),
            ("cl*help", "client|helper", false),
            ("h?llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hbllo", true),
            ("h[A-B]llo", "hbllo", true),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("h[", "h", false),
            ("h[ab", "ha", true),
            ("a**", "a", true),
            ("", "", true),
            ("a", "", false),
            ("SET", "set", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes(), Case::Insensitive),
                *expected,
                "{pattern} ~ {text}"
            );
        }
        assert!(!glob_match(b"SET", b"set", Case::Sensitive));
    }
}
