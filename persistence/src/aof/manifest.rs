//! The multi-part AOF manifest, as Redis 7.0 writes and reads it: one line per file,
//! `file <name> seq <n> type <b|h|i>`, base first, then history, then incr files in order.
//!
//! Reading follows aof.c's rules: `#` lines are comments; every other line is split like
//! `sdssplitargs` (double or single quotes, `\xHH` escapes); a line needs at least six
//! arguments in pairs; unknown keys are ignored (forward compatibility); `file`, a non-zero
//! `seq` and `type` are required; one base at most; incr sequence numbers increase.

/// A file's role in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// The base: an RDB or AOF snapshot (`b`).
    Base,
    /// A file a rewrite made obsolete, deleted soon (`h`).
    History,
    /// Commands appended after the base (`i`).
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file name (inside the AOF directory).
    pub name: String,
    /// Its sequence number.
    pub seq: i64,
    /// Its role.
    pub kind: FileType,
}

/// The whole manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<FileInfo>,
    /// Incr files, oldest first.
    pub incrs: Vec<FileInfo>,
    /// Files a rewrite replaced, not yet deleted.
    pub history: Vec<FileInfo>,
    /// The sequence number of the current base.
    pub base_seq: i64,
    /// The sequence number of the last incr file.
    pub incr_seq: i64,
}

/// Why a manifest was refused: aof.c's message, and the offending line when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The message Redis logs.
    pub message: &'static str,
    /// Line number and trimmed text.
    pub line: Option<(usize, String)>,
}

/// Redis reads manifest lines into a buffer of this size.
const MAX_LINE: usize = 1024;

impl Manifest {
    /// Parses a manifest file's contents.
    ///
    /// # Errors
    /// The rule the text breaks, with Redis's message.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest::default();
        let mut max_seq = 0i64;
        if text.is_empty() {
            return Err(ManifestError {
                message: "Found an empty AOF manifest",
                line: None,
            });
        }
        let mut rest = text;
        let mut number = 0usize;
        while !rest.is_empty() {
            // fgets: up to MAX_LINE bytes or through the newline.
            let take = rest
                .iter()
                .take(MAX_LINE)
                .position(|&b| b == b'\n')
                .map_or(rest.len().min(MAX_LINE), |p| p + 1);
            let raw = &rest[..take];
            rest = &rest[take..];
            number += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let text_line = String::from_utf8_lossy(trim(raw)).into_owned();
            let fail = |message| ManifestError {
                message,
                line: Some((number, text_line.clone())),
            };
            if raw.last() != Some(&b'\n') {
                return Err(fail("The AOF manifest file contains too long line"));
            }
            if trim(raw).is_empty() {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let args =
                split_args(trim(raw)).ok_or_else(|| fail("Invalid AOF manifest file format"))?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in args.chunks(2) {
                let key = pair[0].to_ascii_lowercase();
                match key.as_slice() {
                    b"file" => {
                        let file = String::from_utf8_lossy(&pair[1]).into_owned();
                        if file.contains('/') {
                            return Err(fail("File can't be a path, just a filename"));
                        }
                        name = Some(file);
                    }
                    b"seq" => seq = atoll(&pair[1]),
                    b"type" => kind = pair[1].first().copied(),
                    _ => {}
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(fail("Invalid AOF manifest file format"));
            };
            if seq == 0 || name.is_empty() {
                return Err(fail("Invalid AOF manifest file format"));
            }
            match kind {
                b'b' => {
                    if manifest.base.is_some() {
                        return Err(fail("Found duplicate base file information"));
                    }
                    manifest.base_seq = seq;
                    manifest.base = Some(FileInfo {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => manifest.history.push(FileInfo {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= max_seq {
                        return Err(fail("Found a non-monotonic sequence number"));
                    }
                    max_seq = seq;
                    manifest.incr_seq = seq;
                    manifest.incrs.push(FileInfo {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                }
                _ => return Err(fail("Unknown AOF file type")),
            }
        }
        if number == 0 {
            return Err(ManifestError {
                message: "Found an empty AOF manifest",
                line: None,
            });
        }
        Ok(manifest)
    }

    /// The manifest's text: base, history, incr files.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let files = self.base.iter().chain(&self.history).chain(&self.incrs);
        for info in files {
            let name = if needs_repr(&info.name) {
                repr(&info.name)
            } else {
                info.name.clone()
            };
            out.push_str(&format!(
                "file {name} seq {} type {}\n",
                info.seq,
                info.kind.letter()
            ));
        }
        out
    }

    /// Starts a new base named after `prefix` (the `appendfilename`): the old base becomes
    /// history. Returns the new base's name.
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        // History is listed newest first, as Redis prepends to it.
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let ext = if rdb { "rdb" } else { "aof" };
        let name = format!("{prefix}.{}.base.{ext}", self.base_seq);
        self.base = Some(FileInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        name
    }

    /// Adds a new incr file; returns its name.
    pub fn new_incr(&mut self, prefix: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{prefix}.{}.incr.aof", self.incr_seq);
        self.incrs.push(FileInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// Moves every incr file to history (a rewrite's base now holds what they did).
    pub fn incrs_to_history(&mut self) {
        for mut info in std::mem::take(&mut self.incrs) {
            info.kind = FileType::History;
            self.history.insert(0, info);
        }
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_space(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |p| p + 1);
    &line[start..end.max(start)]
}

/// `atoll`: leading blanks, a sign, digits; anything else ends the number.
fn atoll(text: &[u8]) -> i64 {
    let text = trim(text);
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -n } else { n }
}

/// Splits a line like `sdssplitargs`: blanks separate arguments; "double quotes" take `\n`,
/// `\xHH` and friends; 'single quotes' take only `\'`. None for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_double {
                match c {
                    None => return None,
                    Some(b'\\')
                        if i + 3 < line.len()
                            && line[i + 1] == b'x'
                            && line[i + 2].is_ascii_hexdigit()
                            && line[i + 3].is_ascii_hexdigit() =>
                    {
                        let hex = std::str::from_utf8(&line[i + 2..i + 4]).ok()?;
                        current.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        current.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must be followed by a space or the end.
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else if in_single {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        current.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(b) if b.is_ascii_whitespace() => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => current.push(other),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

/// Whether a name needs quoting (`sdsneedsrepr`).
fn needs_repr(name: &str) -> bool {
    name.bytes()
        .any(|b| matches!(b, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8) || !b.is_ascii_graphic())
}

/// Quotes a name (`sdscatrepr`).
fn repr(name: &str) -> String {
    let mut out = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_manifest() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text.as_bytes()).expect("parses");
        assert_eq!(m.base_seq, 1);
        assert_eq!(m.incr_seq, 2);
        assert_eq!(m.render(), text);
    }

    #[test]
    fn unknown_keys_and_comments_are_ignored() {
        let text = "# comment\nfile a.1.base.rdb seq 1 type b newkey newvalue\n";
        let m = Manifest::parse(text.as_bytes()).expect("parses");
        assert_eq!(m.base.map(|b| b.name).as_deref(), Some("a.1.base.rdb"));
    }

    #[test]
    fn refuses_what_redis_refuses() {
        let message = |t: &str| {
            Manifest::parse(t.as_bytes())
                .map(|_| ())
                .unwrap_err()
                .message
        };
        assert_eq!(message(""), "Found an empty AOF manifest");
        assert_eq!(
            message("file a seq 1\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            message("file a seq 1 type b"),
            "The AOF manifest file contains too long line"
        );
        assert_eq!(message("\n"), "Invalid AOF manifest file format");
        assert_eq!(
            message("file a/b seq 1 type b\n"),
            "File can't be a path, just a filename"
        );
        assert_eq!(
            message("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            message("file a seq 2 type i\nfile b seq 1 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(message("file a seq 1 type x\n"), "Unknown AOF file type");
    }

    #[test]
    fn quoted_names_round_trip() {
        let mut m = Manifest::default();
        m.new_base("my aof", true);
        let text = m.render();
        assert_eq!(text, "file \"my aof.1.base.rdb\" seq 1 type b\n");
        assert_eq!(Manifest::parse(text.as_bytes()).expect("parses"), m);
    }
}
