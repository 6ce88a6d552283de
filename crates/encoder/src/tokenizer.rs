//! The SentencePiece (unigram) tokenizer of multilingual-e5, written for this vocabulary of
//! 250,002 pieces. It ports the reference engine's `tok_content`: map each code point through
//! the normalisation table, collapse runs of spaces, put the metaspace `▁` in front and in place
//! of every space, then pick the segmentation with the highest total score (Viterbi); a
//! character no piece covers costs `min score − 10` and becomes `<unk>`.
//!
//! The pieces live in one string with offsets and an open-addressing table of ids (about 7 MB in
//! all), instead of 250k `String`s in a `HashMap`.

use crate::bytes::{Cursor, Truncated};

/// SentencePiece's metaspace, which stands for a space.
const METASPACE: char = '\u{2581}';
const TOKENIZER_MAGIC: &[u8; 4] = b"TTK1";

/// The raw parts of the tokenizer as stored in the E5S1 file and in `tokenizer.bin`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizerParts {
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
    /// `pieces + 1` byte offsets into `blob`.
    pub offsets: Vec<u32>,
    pub scores: Vec<f32>,
    pub blob: Vec<u8>,
    /// Normalisation: each entry a code point and what it becomes (possibly nothing).
    pub normalisation: Vec<(u32, Vec<u32>)>,
}

impl TokenizerParts {
    /// Reads the layout shared by E5S1 and `tokenizer.bin`: pieces, bos, eos, pad, unk (i32),
    /// blob length (u64), offsets (u32 × pieces+1), scores (f32 × pieces), the blob, then the
    /// normalisation map: entries (i32), its byte length (u32), and per entry a code point
    /// (u32), a count (u8) and that many code points (u32).
    pub(crate) fn read(c: &mut Cursor<'_>) -> Result<Self, Truncated> {
        let pieces = c.count("tokenizer: piece count")?;
        let bos = c.u32("tokenizer: <s>")?;
        let eos = c.u32("tokenizer: </s>")?;
        let pad = c.u32("tokenizer: <pad>")?;
        let unk = c.u32("tokenizer: <unk>")?;
        let blob_len = usize::try_from(c.u64("tokenizer: blob length")?)
            .map_err(|_| Truncated("tokenizer: blob length too large".into()))?;
        let offsets = c.u32s(pieces + 1, "tokenizer: piece offsets")?;
        let scores = c.f32s(pieces, "tokenizer: piece scores")?;
        let blob = c.take(blob_len, "tokenizer: pieces")?.to_vec();
        let entries = c.count("normalisation: entry count")?;
        let len = c.u32("normalisation: byte length")? as usize;
        let mut map = Cursor::new(c.take(len, "normalisation map")?);
        let mut normalisation = Vec::with_capacity(entries);
        for _ in 0..entries {
            let cp = map.u32("normalisation: code point")?;
            let n = map.u8("normalisation: output count")?;
            normalisation.push((cp, map.u32s(n.into(), "normalisation: output")?));
        }
        if map.position() != len {
            return Err(Truncated(format!(
                "normalisation map: {} of {len} bytes used",
                map.position()
            )));
        }
        Ok(TokenizerParts {
            bos,
            eos,
            pad,
            unk,
            offsets,
            scores,
            blob,
            normalisation,
        })
    }

    pub(crate) fn write_body(&self, out: &mut Vec<u8>) {
        let pieces = self.scores.len() as i32;
        out.extend_from_slice(&pieces.to_le_bytes());
        for id in [self.bos, self.eos, self.pad, self.unk] {
            out.extend_from_slice(&id.to_le_bytes());
        }
        out.extend_from_slice(&(self.blob.len() as u64).to_le_bytes());
        for o in &self.offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        for s in &self.scores {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend_from_slice(&self.blob);
        let mut map = Vec::new();
        for (cp, to) in &self.normalisation {
            map.extend_from_slice(&cp.to_le_bytes());
            map.push(to.len() as u8);
            for t in to {
                map.extend_from_slice(&t.to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.normalisation.len() as i32).to_le_bytes());
        out.extend_from_slice(&(map.len() as u32).to_le_bytes());
        out.extend_from_slice(&map);
    }

    /// `tokenizer.bin`: the magic `TTK1`, then the same layout as in E5S1.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.blob.len() + self.scores.len() * 8 + 64 * 1024);
        out.extend_from_slice(TOKENIZER_MAGIC);
        self.write_body(&mut out);
        out
    }

    /// Reads `tokenizer.bin`.
    pub fn from_file_bytes(data: &[u8]) -> Result<Self, String> {
        let mut c = Cursor::new(data);
        let magic = c.take(4, "tokenizer.bin magic").map_err(|e| e.0)?;
        if magic != TOKENIZER_MAGIC {
            return Err("not a Tandem tokenizer file (bad magic)".into());
        }
        let parts = Self::read(&mut c).map_err(|e| e.0)?;
        if c.position() != data.len() {
            return Err(format!(
                "{} bytes after the tokenizer",
                data.len() - c.position()
            ));
        }
        Ok(parts)
    }
}

/// The tokenizer, ready to use.
pub struct Tokenizer {
    bos: u32,
    eos: u32,
    pad: u32,
    unk: u32,
    unk_score: f32,
    max_piece_bytes: usize,
    offsets: Vec<u32>,
    scores: Vec<f32>,
    pieces: String,
    /// Open addressing by FNV-1a of the piece: piece id + 1, 0 = empty.
    slots: Vec<u32>,
    norm_from: Vec<u32>,
    norm_start: Vec<u32>,
    norm_to: Vec<char>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Tokenizer {
    /// Checks the parts and builds the lookup table.
    pub fn new(parts: TokenizerParts) -> Result<Self, String> {
        let TokenizerParts {
            bos,
            eos,
            pad,
            unk,
            offsets,
            scores,
            blob,
            normalisation,
        } = parts;
        let n = scores.len();
        if n == 0 || offsets.len() != n + 1 {
            return Err(format!("{} offsets for {n} pieces", offsets.len()));
        }
        if n > u32::MAX as usize / 2 {
            return Err(format!("{n} pieces: too many"));
        }
        for id in [bos, eos, pad, unk] {
            if id as usize >= n {
                return Err(format!("special token id {id} beyond {n} pieces"));
            }
        }
        let pieces = String::from_utf8(blob).map_err(|_| "pieces are not UTF-8".to_string())?;
        if offsets[0] != 0 || offsets[n] as usize != pieces.len() {
            return Err("piece offsets do not span the pieces".into());
        }
        let mut max_piece_bytes = 1;
        let mut min_score = f32::INFINITY;
        for id in 0..n {
            let (a, b) = (offsets[id] as usize, offsets[id + 1] as usize);
            if a > b || pieces.get(a..b).is_none() {
                return Err(format!("piece {id}: bad offsets {a}..{b}"));
            }
            if !scores[id].is_finite() {
                return Err(format!("piece {id}: score {}", scores[id]));
            }
            max_piece_bytes = max_piece_bytes.max(b - a);
            min_score = min_score.min(scores[id]);
        }
        let mut norm_from = Vec::with_capacity(normalisation.len());
        let mut norm_start = Vec::with_capacity(normalisation.len() + 1);
        let mut norm_to = Vec::new();
        for (cp, to) in normalisation {
            if norm_from.last().is_some_and(|&last| last >= cp) {
                return Err(format!("normalisation map not sorted at U+{cp:04X}"));
            }
            norm_from.push(cp);
            norm_start.push(norm_to.len() as u32);
            for t in to {
                norm_to.push(char::from_u32(t).ok_or(format!("normalisation to U+{t:04X}"))?);
            }
        }
        norm_start.push(norm_to.len() as u32);

        let size = (n * 2).next_power_of_two();
        let mut slots = vec![0u32; size];
        for id in 0..n {
            let piece = &pieces.as_bytes()[offsets[id] as usize..offsets[id + 1] as usize];
            if piece.is_empty() {
                continue;
            }
            let mut i = (fnv1a(piece) as usize) & (size - 1);
            while slots[i] != 0 {
                i = (i + 1) & (size - 1);
            }
            slots[i] = id as u32 + 1;
        }
        Ok(Tokenizer {
            bos,
            eos,
            pad,
            unk,
            unk_score: min_score - 10.0,
            max_piece_bytes,
            offsets,
            scores,
            pieces,
            slots,
            norm_from,
            norm_start,
            norm_to,
        })
    }

    pub fn bos(&self) -> u32 {
        self.bos
    }
    pub fn eos(&self) -> u32 {
        self.eos
    }
    pub fn pad(&self) -> u32 {
        self.pad
    }
    pub fn unk(&self) -> u32 {
        self.unk
    }
    pub fn pieces(&self) -> usize {
        self.scores.len()
    }

    /// The text of piece `id`.
    pub fn piece(&self, id: u32) -> Option<&str> {
        let id = id as usize;
        let (a, b) = (*self.offsets.get(id)?, *self.offsets.get(id + 1)?);
        self.pieces.get(a as usize..b as usize)
    }

    /// The id of the piece spelled `s`, if there is one.
    pub fn id(&self, s: &str) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = (fnv1a(s.as_bytes()) as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            if self.piece(slot - 1) == Some(s) {
                return Some(slot - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Bytes of the tables this tokenizer holds (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.len() * 4
            + self.scores.len() * 4
            + self.pieces.len()
            + self.slots.len() * 4
            + self.norm_from.len() * 8
            + self.norm_to.len() * 4
    }

    fn normalised(&self, c: char) -> Option<&[char]> {
        let i = self.norm_from.binary_search(&(c as u32)).ok()?;
        let (a, b) = (self.norm_start[i] as usize, self.norm_start[i + 1] as usize);
        self.norm_to.get(a..b)
    }

    /// The text as the pieces see it: normalised, spaces collapsed, `▁` for every space and in
    /// front.
    pub fn normalise(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut last_space = false;
        let mut first = true;
        let mut push = |c: char, out: &mut String| {
            if c == ' ' && last_space {
                return;
            }
            if first && c != ' ' {
                out.push(METASPACE);
            }
            first = false;
            last_space = c == ' ';
            out.push(if c == ' ' { METASPACE } else { c });
        };
        for c in text.chars() {
            match self.normalised(c) {
                Some(to) => to.iter().for_each(|&t| push(t, &mut out)),
                None => push(c, &mut out),
            }
        }
        if first {
            out.push(METASPACE);
        }
        out
    }

    /// The piece ids of `text`, without `<s>` and `</s>`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let text = self.normalise(text);
        // Byte offset of every character boundary, the end included.
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let n = bounds.len() - 1;
        const UNREACHED: f32 = -1e30;
        let mut best = vec![UNREACHED; n + 1];
        // (piece id or None for an unknown character, start char index) of the best path.
        let mut back: Vec<(Option<u32>, usize)> = vec![(None, 0); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] <= -1e29 {
                continue;
            }
            for e in i + 1..=n {
                let len = bounds[e] - bounds[i];
                if len > self.max_piece_bytes {
                    break;
                }
                if let Some(id) = self.id(&text[bounds[i]..bounds[e]]) {
                    if id == self.unk {
                        continue;
                    }
                    let score = best[i] + self.scores[id as usize];
                    if score > best[e] {
                        best[e] = score;
                        back[e] = (Some(id), i);
                    }
                }
            }
            let score = best[i] + self.unk_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                back[i + 1] = (None, i);
            }
        }
        let mut ids = Vec::new();
        let mut i = n;
        while i > 0 {
            let (id, from) = back[i];
            ids.push(id.unwrap_or(self.unk));
            i = from;
        }
        ids.reverse();
        ids
    }

    /// `<s>`, the pieces of `text` (at most `max_len − 2` of them), `</s>`.
    pub fn encode_with_specials(&self, text: &str, max_len: usize) -> Vec<u32> {
        let content = self.encode(text);
        let keep = content.len().min(max_len.saturating_sub(2));
        let mut ids = Vec::with_capacity(keep + 2);
        ids.push(self.bos);
        ids.extend_from_slice(&content[..keep]);
        ids.push(self.eos);
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy vocabulary: specials, then pieces with scores.
    fn toy(pieces: &[(&str, f32)], normalisation: Vec<(u32, Vec<u32>)>) -> Tokenizer {
        let all: Vec<(&str, f32)> = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
            .into_iter()
            .chain(pieces.iter().copied())
            .collect();
        let mut offsets = vec![0u32];
        let mut blob = Vec::new();
        for (p, _) in &all {
            blob.extend_from_slice(p.as_bytes());
            offsets.push(blob.len() as u32);
        }
        let parts = TokenizerParts {
            bos: 0,
            eos: 2,
            pad: 1,
            unk: 3,
            offsets,
            scores: all.iter().map(|(_, s)| *s).collect(),
            blob,
            normalisation,
        };
        let bytes = parts.to_file_bytes();
        let back = TokenizerParts::from_file_bytes(&bytes).expect("round trip");
        assert_eq!(back, parts);
        Tokenizer::new(parts).expect("toy tokenizer")
    }

    fn words(t: &Tokenizer, text: &str) -> Vec<String> {
        t.encode(text)
            .into_iter()
            .map(|id| t.piece(id).unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn viterbi_prefers_the_best_total_score_over_the_longest_piece() {
        // "▁abc" could be ▁a + bc (-1 + -1 = -2) or ▁ab + c (-0.5 + -3 = -3.5).
        let t = toy(
            &[
                ("▁", -5.0),
                ("▁a", -1.0),
                ("▁ab", -0.5),
                ("bc", -1.0),
                ("c", -3.0),
                ("a", -4.0),
                ("b", -4.0),
            ],
            vec![],
        );
        assert_eq!(words(&t, "abc"), ["▁a", "bc"]);
    }

    #[test]
    fn a_character_no_piece_covers_becomes_unk() {
        let t = toy(&[("▁", -2.0), ("▁a", -1.0), ("a", -1.5)], vec![]);
        assert_eq!(t.encode("a€a"), vec![5, 3, 6]);
        assert_eq!(words(&t, "a€a"), ["▁a", "<unk>", "a"]);
    }

    #[test]
    fn the_unk_piece_itself_is_never_matched_from_text() {
        let t = toy(&[("▁", -2.0)], vec![]);
        assert_eq!(
            words(&t, "<unk>").iter().filter(|w| *w == "<unk>").count(),
            5
        );
    }

    #[test]
    fn spaces_collapse_and_become_metaspaces() {
        let t = toy(&[("▁", -2.0), ("▁a", -1.0), ("▁b", -1.0)], vec![]);
        assert_eq!(t.normalise("a   b"), "▁a▁b");
        assert_eq!(t.normalise(" a"), "▁a", "a leading space is the metaspace");
        assert_eq!(t.normalise(""), "▁");
        assert_eq!(words(&t, "a  b"), ["▁a", "▁b"]);
    }

    #[test]
    fn normalisation_maps_drops_and_expands_code_points() {
        let t = toy(
            &[("▁", -2.0), ("▁a", -1.0), ("fi", -1.0)],
            vec![
                (0x09, vec![0x20]),             // tab → space
                (0x0b, vec![]),                 // vertical tab → nothing
                (0xfb01, vec![0x66, 0x69]),     // ﬁ → fi
                (0xff41, vec![u32::from('a')]), // full-width a → a
            ],
        );
        assert_eq!(t.normalise("a\t\u{0b}\u{ff41}\u{fb01}"), "▁a▁afi");
        assert_eq!(words(&t, "\u{ff41}\u{fb01}"), ["▁a", "fi"]);
    }

    #[test]
    fn specials_wrap_the_pieces_and_long_texts_are_cut() {
        let t = toy(&[("▁", -2.0), ("▁a", -1.0)], vec![]);
        assert_eq!(t.encode_with_specials("a a a", 512), vec![0, 5, 5, 5, 2]);
        assert_eq!(t.encode_with_specials("a a a", 4), vec![0, 5, 5, 2]);
    }

    #[test]
    fn ids_are_found_by_spelling() {
        let t = toy(&[("▁", -2.0), ("▁a", -1.0)], vec![]);
        assert_eq!(t.id("▁a"), Some(5));
        assert_eq!(t.id("</s>"), Some(2));
        assert_eq!(t.id("zz"), None);
    }

    #[test]
    fn corrupt_parts_are_refused() {
        let t = |f: &dyn Fn(&mut TokenizerParts)| {
            let mut parts = TokenizerParts {
                bos: 0,
                eos: 0,
                pad: 0,
                unk: 0,
                offsets: vec![0, 1],
                scores: vec![0.0],
                blob: b"a".to_vec(),
                normalisation: vec![],
            };
            f(&mut parts);
            Tokenizer::new(parts).is_err()
        };
        assert!(!t(&|_| {}));
        assert!(t(&|p| p.unk = 7));
        assert!(t(&|p| p.offsets = vec![0, 2]));
        assert!(t(&|p| p.blob = vec![0xff]));
        assert!(t(&|p| p.normalisation = vec![(5, vec![]), (4, vec![])]));
        assert!(TokenizerParts::from_file_bytes(b"XXXX").is_err());
    }
}
