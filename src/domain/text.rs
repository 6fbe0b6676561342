//! The one sanitizer every untrusted string passes before it is drawn.
//!
//! Client-supplied text (emails, notes, names, correspondence) and anything read back from the
//! database may be hostile: it can carry terminal escape sequences (set the window title, write
//! the clipboard with OSC 52, plant OSC 8 hyperlinks, switch character sets, move the cursor),
//! raw control characters (carriage return overwrite tricks, backspace, bell), bidi controls that
//! reorder what the reader sees, invisible characters that hide or smuggle text, "Zalgo" stacks of
//! combining marks, and characters whose width terminals disagree on so that borders break.
//!
//! [`sanitize_line`], [`sanitize_line_capped`] and [`sanitize_block`] are the only ways to build a
//! [`SafeText`]; a value of that type has been neutralised, so the drawing code can demand it.
//!
//! # What the sanitizer does
//!
//! 1. The text is normalised to **NFC** (after dropping variation selectors and skin-tone
//!    modifiers, see 6).
//! 2. Every character that could change terminal state, move the cursor, reorder or hide text is
//!    replaced by a **visible, inert placeholder** (table below). Placeholders contain only
//!    printable, single-width characters; none of them is itself a character the sanitizer
//!    replaces, so sanitizing twice changes nothing.
//! 3. A whole escape sequence (7-bit `ESC …` or 8-bit C1 form) becomes *one* placeholder that
//!    shows the sequence's introducer and the first [`ESCAPE_EXCERPT_LEN`] printable ASCII
//!    characters of its body, then `…` if anything was left out: `ESC ] 52 ; c ; <10 KB>` is
//!    drawn as `␛]52;c;SGVsbG8gV29…`. 8-bit introducers are shown in their 7-bit spelling
//!    (U+009B is drawn like `ESC [`). String sequences (OSC, DCS, SOS, PM, APC) end at ST
//!    (`ESC \` or U+009C), BEL, CAN, SUB, any other C1 control, a line break, or the end of the
//!    input (an unterminated sequence); a line break is never swallowed, so a stray `ESC ]` cannot
//!    hide the rest of an email.
//! 4. At most [`MAX_COMBINING_MARKS`] combining marks (General Category M, or a non-zero
//!    canonical combining class) are kept after a base character; **further marks are dropped**.
//!    Three is enough for Vietnamese, pointed Hebrew, Indic syllables and keycap emoji.
//!    A combining mark with no base (at the start of a line, or right after a placeholder or an
//!    expanded tab) is drawn on a dotted circle `◌`, as Unicode charts do.
//! 5. Tabs are expanded to spaces up to the next multiple of [`TAB_STOP`] columns within the line.
//! 6. **Emoji are reduced to forms every terminal measures alike** (see "Emoji" below):
//!    variation selectors VS1–VS16 and skin-tone modifiers are dropped, a ZWJ between two emoji
//!    is dropped (the sequence becomes its members), and flags are spelled out as placeholders:
//!    `🇷🇺` → `[RU]`, `🏴`+tags → `[GB-SCT]`. Emoji that are one code point are kept as they are.
//!
//! # Placeholders
//!
//! | input | drawn as |
//! |---|---|
//! | C0 control U+0000–U+001F (NUL, BEL, BS, CR alone, VT, FF, …) | Control Pictures U+2400 + c: `␀` `␇` `␈` `␍` `␋` `␌` … |
//! | ESC alone / an escape sequence | `␛` / `␛[31m`, `␛]0;title`, `␛]52;c;SGVsbG8gV29…`, `␛P…`, `␛_…`, `␛c`, `␛(0` |
//! | DEL U+007F | `␡` |
//! | newline (LF or CR LF) in a single-line field | `⏎` (in a block it splits lines) |
//! | tab | spaces to the next multiple of [`TAB_STOP`] |
//! | other C1 controls U+0080–U+009F | `⟨NEL⟩`, `⟨IND⟩`, `⟨ST⟩`, `⟨SS2⟩`, … (ECMA-48 abbreviation) |
//! | bidi controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C | `⟨LRE⟩` `⟨RLE⟩` `⟨PDF⟩` `⟨LRO⟩` `⟨RLO⟩` `⟨LRI⟩` `⟨RLI⟩` `⟨FSI⟩` `⟨PDI⟩` `⟨LRM⟩` `⟨RLM⟩` `⟨ALM⟩` |
//! | regional-indicator flag / a lone regional indicator | its letters in ASCII square brackets: `🇷🇺` → `[RU]`, `🇷` → `[R]` |
//! | emoji tag flag: `🏴` + 1–8 tag letters/digits + CANCEL TAG | the subdivision code: `🏴󠁧󠁢󠁳󠁣󠁴󠁿` → `[GB-SCT]` |
//! | zero-width and invisible U+200B, U+200C, U+200D (not between two emoji), U+2060, U+FEFF, U+180E, U+00AD | `⟨ZWSP⟩` `⟨ZWNJ⟩` `⟨ZWJ⟩` `⟨WJ⟩` `⟨BOM⟩` `⟨MVS⟩` `⟨SHY⟩` |
//! | line / paragraph separator U+2028, U+2029 | `⟨LS⟩` `⟨PS⟩` |
//! | interlinear annotation U+FFF9–U+FFFB | `⟨IAA⟩` `⟨IAS⟩` `⟨IAT⟩` |
//! | any other run of tag characters U+E0000–U+E007F | `⟨TAG:hidden text⟩` (decoded, first 16 shown, then `…`) |
//! | any other format character (General Category Cf), Hangul fillers U+115F, U+1160, U+3164, U+FFA0, unassigned code points and noncharacters | `⟨U+XXXX⟩` |
//! | a combining mark without a base | `◌` + the mark |
//! | text cut short by [`fit`] or [`sanitize_line_capped`] | `…` at the end |
//!
//! Private-use characters and ideographic variation selectors (U+E0100–U+E01EF) are harmless
//! and kept. The `⟨` `⟩` brackets are U+27E8/U+27E9 (East Asian Width "narrow"), so a
//! placeholder a client *types* looks the same as a real one (`[RU]` too);
//! [`SafeText::segments`] tells them apart so the UI can style real placeholders (e.g. dim or
//! reversed).
//!
//! # Emoji
//!
//! ratatui measures each grapheme with `unicode-width` and writes it into one cell; it moves the
//! cursor explicitly only after a cell it thinks is wider than one column. Terminals measure per
//! code point with their own tables. Measured in tmux 3.3a (glibc 2.36 `wcwidth`, the version on
//! the development machine) by printing into a pane and reading `#{cursor_x}`:
//!
//! | text | unicode-width (ratatui) | tmux 3.3a |
//! |---|---|---|
//! | 👩‍💻, 👨‍👩‍👧, 🏴‍☠️, 👩‍❤️‍👨 | 2 | 2 (a ZWJ glues the next code point into the current cell) |
//! | 🏳️‍🌈, 👁️‍🗨️ | 2 | 1 (the cell keeps the width of its *first* code point) |
//! | 👩🏽‍💻 | 2 | 4 (modifiers are not combined) |
//! | 👍🏽 | 2 | 4 |
//! | ❤️ (U+2764 VS16), 1️⃣ keycap | 2 | 1 (VS16 does not widen) |
//! | 😀︎ (U+1F600 VS15) | 1 | 2 |
//! | 🇫🇷 | 2 | 2, as two cells of one column: overwriting the first leaves the second (`🇷`) |
//! | 🏴 + tags | 2 | 2 |
//!
//! Terminals without ZWJ support (xterm, VTE) draw the sum of the parts (👨‍👩‍👧 in 6 columns);
//! others draw some sequences in 2. Whenever ratatui and the terminal disagree, ratatui's diff
//! leaves cells unwritten or writes them one column off, so stray glyphs stay behind after an
//! overlay closes. No single width is right for every terminal, so the sanitizer keeps none of
//! these sequences. The rule:
//!
//! | input | drawn as | why |
//! |---|---|---|
//! | an emoji that is one code point: 😀 🙏 🔐 ❤ ☠ 🏳 | kept | every terminal measures it alike (2, or 1 for text-presentation ones like ❤) |
//! | variation selectors VS1–VS16 U+FE00–U+FE0F | dropped: ❤️ → ❤, 1️⃣ → 1⃣ | they only pick a glyph; VS15/VS16 (and VS2 after curly quotes) change `unicode-width`'s width, not the terminals' |
//! | skin-tone modifiers U+1F3FB–U+1F3FF | dropped: 👍🏽 → 👍 | tmux and ZWJ-unaware terminals draw the modifier as a second wide cell |
//! | a ZWJ between two emoji | dropped, the sequence becomes its members: 👨‍👩‍👧 → 👨👩👧, 👩🏽‍💻 → 👩💻, 🏳️‍🌈 → 🏳🌈 | terminals draw ZWJ sequences in 1, 2 or the sum of the parts |
//! | a regional-indicator pair (flag) | `[RU]` (a lone indicator `[R]`), as a placeholder | terminals draw a flag in 2 cells, one wide cell or two narrow ones |
//! | `🏴` + tag spec + CANCEL TAG | `[GB-SCT]`, as a placeholder | tag characters are invisible; terminals without tag support show a bare black flag |
//!
//! Variation selectors and modifiers are removed before NFC, so text they separated composes as
//! it would without them. A ZWJ elsewhere (`ad⟨ZWJ⟩min`, `a⟨ZWJ⟩💻`) stays a placeholder, so no
//! joiner ever reaches the terminal. After this, every grapheme the desk draws is one code point,
//! or a base with combining marks, conjoining jamo or spacing marks, and ratatui's width for it
//! is the sum of its code points' widths, which is how terminals that measure per code point lay
//! it out (a test checks this for every code point in several contexts, the property tests for
//! random text).
//!
//! One non-emoji case of the same kind: ratatui draws the halfwidth (semi-)voiced sound marks
//! U+FF9E / U+FF9F two columns wide and terminals one, so they become their compatibility
//! mappings, the combining marks U+3099 / U+309A (`ｶﾞ` → `ｶ゙`, one column everywhere).
//!
//! # Width
//!
//! Terminals' tables still differ from `unicode-width` for some single code points:
//!
//! | text | unicode-width (ratatui) | tmux 3.3a |
//! |---|---|---|
//! | ZWSP, bidi controls | 0 | 0 |
//! | U+00AD, U+3164 | 0 | 1, 2 |
//! | U+FFF9–U+FFFB, unassigned U+0378, noncharacters | 1 | 0 (dropped) |
//! | Tamil கா (U+0B95 U+0BBE), Bengali, Kannada, Malayalam, Sinhala vowel signs | 1 | 2 |
//!
//! The first rows are placeholders. For the rest, [`display_width`] is **conservative**: per
//! grapheme, the maximum of ratatui's width and the sum of the widths of its code points (using
//! glibc's width where glibc is known to be wider). [`fit`] truncates by that measure, so a
//! fitted field never draws past its column count in tmux or in ratatui's own buffer.
//!
//! Residual risk (not fixable here, the text is legitimate): the characters in the last table
//! row, which ratatui thinks are narrower than tmux does, push the cells ratatui draws right after
//! the field one column to the right until ratatui's next explicit cursor move. Characters in
//! Unicode versions newer than the terminal's tables are drawn with width 0 by tmux. Terminals set
//! to draw East Asian *ambiguous* characters wide (this includes `…` and ratatui's own box
//! drawing) are out of scope.
//!
//! # Cost
//!
//! Every function runs in time linear in its input (NFC is streamed; escape-sequence payloads,
//! tag runs and mark stacks are consumed in one pass and only a bounded excerpt is kept).
//! [`sanitize_line_capped`] also stops reading input once its output cap is reached.

use std::fmt;
use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{
    canonical_combining_class, is_combining_mark, is_public_assigned,
};
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Combining marks kept after one base character; further marks are dropped.
pub const MAX_COMBINING_MARKS: usize = 3;
/// Tabs advance to the next multiple of this many columns within the line.
pub const TAB_STOP: usize = 4;
/// Printable ASCII characters of an escape sequence's body (or of a tag run) that are shown.
pub const ESCAPE_EXCERPT_LEN: usize = 16;
/// Marks text that was cut short.
pub const ELLIPSIS: char = '…';
/// Shown for a line break inside a single-line field.
pub const NEWLINE_MARKER: char = '⏎';
/// Base drawn under a combining mark that has no base of its own.
pub const ORPHAN_MARK_BASE: char = '◌';

const ESC_MARKER: char = '␛';
const ZWJ: char = '\u{200D}';
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';
/// Longest tag spec spelled out as a flag (subdivision codes such as `gbsct` are 5).
const MAX_TAG_SPEC: usize = 8;

/// Text that has passed the sanitizer and may be drawn.
///
/// The only constructors are [`sanitize_line`], [`sanitize_line_capped`], [`sanitize_block`],
/// [`fit`] and [`Default`] (empty). Equality, ordering and hashing look at the text only; the
/// placeholder positions reported by [`SafeText::segments`] are presentation metadata.
#[derive(Clone, Default)]
pub struct SafeText {
    text: String,
    /// Byte ranges of placeholders inserted by the sanitizer, sorted and disjoint.
    markers: Vec<Range<usize>>,
}

/// Sanitized text is still client text (often personal data): `Debug` shows its length only.
impl fmt::Debug for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeText(‹{} chars›)", self.text.chars().count())
    }
}

impl zeroize::Zeroize for SafeText {
    fn zeroize(&mut self) {
        self.text.zeroize();
        self.markers.clear();
    }
}

/// A piece of a [`SafeText`]: client text, or a placeholder the sanitizer inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text as the client wrote it (normalised).
    Text(&'a str),
    /// A placeholder, an inserted `◌`, or a truncation `…`.
    Marker(&'a str),
}

impl SafeText {
    /// The sanitized text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The sanitized text, by value.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Conservative width in terminal columns; see [`display_width`].
    pub fn width(&self) -> usize {
        display_width(self)
    }

    /// The width ratatui computes for this text (`unicode-width` per grapheme). At most
    /// [`SafeText::width`]; when the two differ, terminals may disagree on the layout.
    pub fn ratatui_width(&self) -> usize {
        self.text.graphemes(true).map(ratatui_grapheme_width).sum()
    }

    /// Splits the text into client text and inserted placeholders, in order, so the UI can
    /// style placeholders differently from text a client typed to look like one.
    pub fn segments(&self) -> Segments<'_> {
        Segments {
            text: &self.text,
            markers: &self.markers,
            pos: 0,
        }
    }

    /// The text up to byte `cut` (a grapheme boundary), then a `…` marker.
    fn truncated_with_ellipsis(&self, cut: usize) -> SafeText {
        let mut text = self.text.get(..cut).unwrap_or_default().to_owned();
        let mut markers: Vec<Range<usize>> = self
            .markers
            .iter()
            .filter(|r| r.start < cut)
            .map(|r| r.start..r.end.min(cut))
            .collect();
        let start = text.len();
        text.push(ELLIPSIS);
        markers.push(start..text.len());
        SafeText { text, markers }
    }
}

impl fmt::Display for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for SafeText {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl From<SafeText> for String {
    fn from(s: SafeText) -> Self {
        s.text
    }
}

impl PartialEq for SafeText {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for SafeText {}

impl PartialEq<str> for SafeText {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for SafeText {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl std::hash::Hash for SafeText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl PartialOrd for SafeText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SafeText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

/// Iterator returned by [`SafeText::segments`].
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    text: &'a str,
    markers: &'a [Range<usize>],
    pos: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        if let Some((marker, rest)) = self.markers.split_first() {
            if self.pos < marker.start {
                let text = self.text.get(self.pos..marker.start)?;
                self.pos = marker.start;
                return Some(Segment::Text(text));
            }
            self.markers = rest;
            self.pos = marker.end;
            return Some(Segment::Marker(self.text.get(marker.clone())?));
        }
        if self.pos < self.text.len() {
            let text = self.text.get(self.pos..)?;
            self.pos = self.text.len();
            return Some(Segment::Text(text));
        }
        None
    }
}

/// Sanitizes a single-line field (a name, a subject, a table cell): line breaks become `⏎`.
pub fn sanitize_line(s: &str) -> SafeText {
    let mut sanitizer = Sanitizer::new(Mode::Line);
    sanitizer.run(s, usize::MAX);
    sanitizer.line.finish()
}

/// Like [`sanitize_line`], but the result holds at most `max_chars` characters: longer output is
/// cut at a grapheme boundary and ends with `…`. Input past the cap is not even read, so this is
/// the one to use for fields that may be huge.
pub fn sanitize_line_capped(s: &str, max_chars: usize) -> SafeText {
    if max_chars == 0 {
        return SafeText::default();
    }
    let mut sanitizer = Sanitizer::new(Mode::Line);
    sanitizer.run(s, max_chars);
    let line = sanitizer.line.finish();
    if line.text.chars().count() <= max_chars {
        return line;
    }
    // The sanitizer stopped with more than `max_chars` characters, so every boundary we may cut
    // at has its following character available and is a boundary of the full output too.
    let mut cut = 0;
    let mut chars = 0;
    for (i, g) in line.text.grapheme_indices(true) {
        chars += g.chars().count();
        if chars > max_chars - 1 {
            break;
        }
        cut = i + g.len();
    }
    line.truncated_with_ellipsis(cut)
}

/// Sanitizes multi-line text (an email body, a note): one [`SafeText`] per line. Lines are split
/// on LF and CR LF (every separator splits, so `"a\n"` gives `["a", ""]`); a lone CR is a
/// placeholder.
pub fn sanitize_block(s: &str) -> Vec<SafeText> {
    let mut sanitizer = Sanitizer::new(Mode::Block);
    sanitizer.run(s, usize::MAX);
    let last = sanitizer.line.finish();
    sanitizer.lines.push(last);
    sanitizer.lines
}

/// Conservative display width in terminal columns: per grapheme, the larger of ratatui's width
/// (`unicode-width`) and the sum of its code points' widths (what tmux 3.3 and ZWJ-unaware
/// terminals draw, with glibc's width where it is known to be wider). See the module docs.
pub fn display_width(s: &SafeText) -> usize {
    s.text.graphemes(true).map(grapheme_width).sum()
}

/// Cuts `s` at a grapheme boundary so that its [`display_width`] is at most `max_cols`, ending
/// with `…` when anything was cut. Returns `s` unchanged when it already fits.
pub fn fit(s: &SafeText, max_cols: usize) -> SafeText {
    if display_width(s) <= max_cols {
        return s.clone();
    }
    if max_cols == 0 {
        return SafeText::default();
    }
    let budget = max_cols - 1; // `…` is one column
    let mut used = 0;
    let mut cut = 0;
    for (i, g) in s.text.grapheme_indices(true) {
        used += grapheme_width(g);
        if used > budget {
            break;
        }
        cut = i + g.len();
    }
    s.truncated_with_ellipsis(cut)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Line,
    Block,
}

/// One output line being built.
struct LineBuf {
    text: String,
    markers: Vec<Range<usize>>,
    /// Output characters so far.
    chars: usize,
    /// Column, for tab stops.
    col: usize,
    /// The next combining mark has no base (line start, after a placeholder or a tab).
    needs_base: bool,
    /// Combining marks kept after the current base.
    mark_run: usize,
}

impl LineBuf {
    fn new() -> Self {
        LineBuf {
            text: String::new(),
            markers: Vec::new(),
            chars: 0,
            col: 0,
            needs_base: true,
            mark_run: 0,
        }
    }

    fn finish(self) -> SafeText {
        SafeText {
            text: self.text,
            markers: self.markers,
        }
    }

    fn plain(&mut self, c: char) {
        self.text.push(c);
        self.chars += 1;
        self.col += char_width(c);
        self.needs_base = false;
        self.mark_run = 0;
    }

    fn marker(&mut self, placeholder: &str) {
        let start = self.text.len();
        self.text.push_str(placeholder);
        self.markers.push(start..self.text.len());
        let n = placeholder.chars().count();
        self.chars += n;
        self.col += n;
        self.needs_base = true;
        self.mark_run = 0;
    }

    fn marker_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.marker(c.encode_utf8(&mut buf));
    }

    fn code_point_marker(&mut self, c: char) {
        self.marker(&format!("⟨U+{:04X}⟩", u32::from(c)));
    }

    fn combining_mark(&mut self, c: char) {
        if self.needs_base {
            self.marker_char(ORPHAN_MARK_BASE);
            self.needs_base = false;
        }
        if self.mark_run >= MAX_COMBINING_MARKS {
            return;
        }
        self.text.push(c);
        self.chars += 1;
        self.col += char_width(c);
        self.mark_run += 1;
    }

    fn tab(&mut self) {
        let n = TAB_STOP - self.col % TAB_STOP;
        self.text.extend(std::iter::repeat_n(' ', n));
        self.chars += n;
        self.col += n;
        self.needs_base = true;
        self.mark_run = 0;
    }

    /// Whether a ZWJ joins two emoji: the output ends with an emoji written as the client
    /// wrote it (not a placeholder) and `next` is an emoji that will be written unchanged. Such
    /// a ZWJ is dropped, so the sequence becomes its members; the decision depends only on
    /// characters that survive a second pass, so it is idempotent.
    fn zwj_joins(&self, next: Option<char>) -> bool {
        let Some(next) = next else { return false };
        !self.needs_base
            && is_public_assigned(next)
            && is_extended_pictographic(next)
            && self
                .text
                .chars()
                .next_back()
                .is_some_and(is_extended_pictographic)
    }

    /// Removes the last character written as client text (a `🏴` about to become a flag).
    fn pop_plain(&mut self) {
        if let Some(c) = self.text.pop() {
            self.chars -= 1;
            self.col = self.col.saturating_sub(char_width(c));
        }
    }
}

struct Sanitizer {
    mode: Mode,
    lines: Vec<SafeText>,
    line: LineBuf,
}

/// Collects what is shown of an escape sequence or a tag run.
struct Excerpt {
    shown: String,
    count: usize,
    hidden: bool,
}

impl Excerpt {
    fn new(prefix: &str) -> Self {
        Excerpt {
            shown: prefix.to_owned(),
            count: 0,
            hidden: false,
        }
    }

    fn push(&mut self, c: char) {
        if self.hidden {
            return;
        }
        if self.count < ESCAPE_EXCERPT_LEN && (' '..='~').contains(&c) {
            self.shown.push(c);
            self.count += 1;
        } else {
            self.hidden = true;
        }
    }

    fn finish(mut self, suffix: &str) -> String {
        if self.hidden || self.count == 0 && !suffix.is_empty() {
            self.shown.push(ELLIPSIS);
        }
        self.shown.push_str(suffix);
        self.shown
    }
}

impl Sanitizer {
    fn new(mode: Mode) -> Self {
        Sanitizer {
            mode,
            lines: Vec::new(),
            line: LineBuf::new(),
        }
    }

    /// Sanitizes `s`, stopping early once the current line holds more than `char_limit`
    /// characters.
    fn run(&mut self, s: &str, char_limit: usize) {
        // Dropped before NFC, so that what they separated composes as it would without them.
        let mut it = s
            .chars()
            .filter(|&c| !is_dropped(c))
            .map(halfwidth_sound_mark_to_combining)
            .nfc()
            .peekable();
        while let Some(c) = it.next() {
            self.step(c, &mut it);
            if self.line.chars > char_limit {
                break;
            }
        }
    }

    fn newline(&mut self) {
        match self.mode {
            Mode::Line => self.line.marker_char(NEWLINE_MARKER),
            Mode::Block => {
                let done = std::mem::replace(&mut self.line, LineBuf::new());
                self.lines.push(done.finish());
            }
        }
    }

    fn step<I: Iterator<Item = char>>(&mut self, c: char, it: &mut std::iter::Peekable<I>) {
        match c {
            '\u{1B}' => self.escape(it),
            '\u{9B}' => self.csi(it, '['),
            '\u{9D}' => self.string_sequence(it, ']'),
            '\u{90}' => self.string_sequence(it, 'P'),
            '\u{98}' => self.string_sequence(it, 'X'),
            '\u{9E}' => self.string_sequence(it, '^'),
            '\u{9F}' => self.string_sequence(it, '_'),
            '\n' => self.newline(),
            '\r' => {
                if it.next_if_eq(&'\n').is_some() {
                    self.newline();
                } else {
                    self.line.marker_char('␍');
                }
            }
            '\t' => self.line.tab(),
            '\u{0}'..='\u{1F}' => self.line.marker_char(control_picture(c)),
            '\u{7F}' => self.line.marker_char('␡'),
            '\u{80}'..='\u{9F}' => self.line.marker(&format!("⟨{}⟩", c1_name(c))),
            ZWJ => {
                if !self.line.zwj_joins(it.peek().copied()) {
                    self.line.marker("⟨ZWJ⟩");
                }
            }
            REGIONAL_INDICATOR_A..=REGIONAL_INDICATOR_Z => {
                let mut flag = String::from("[");
                flag.push(regional_letter(c));
                if let Some(second) =
                    it.next_if(|n| (REGIONAL_INDICATOR_A..=REGIONAL_INDICATOR_Z).contains(n))
                {
                    flag.push(regional_letter(second));
                }
                flag.push(']');
                self.line.marker(&flag);
            }
            '\u{E0000}'..='\u{E007F}' => self.tags(c, it),
            _ => {
                if let Some(name) = invisible_name(c) {
                    self.line.marker(&format!("⟨{name}⟩"));
                } else if is_other_invisible(c) || !(is_public_assigned(c) || is_private_use(c)) {
                    self.line.code_point_marker(c);
                } else if is_mark(c) {
                    self.line.combining_mark(c);
                } else {
                    self.line.plain(c);
                }
            }
        }
    }

    /// After a 7-bit ESC: one escape sequence, or several when a string sequence is cut short by
    /// the ESC of the next one.
    fn escape<I: Iterator<Item = char>>(&mut self, it: &mut std::iter::Peekable<I>) {
        loop {
            let next = it.peek().copied();
            match next {
                Some('[') => {
                    it.next();
                    self.csi(it, '[');
                }
                Some(intro @ (']' | 'P' | 'X' | '^' | '_')) => {
                    it.next();
                    if self.string_sequence_inner(it, intro) {
                        continue;
                    }
                }
                Some(' '..='/') => {
                    // nF: intermediates, then one final byte (e.g. `ESC ( 0`, DEC line drawing).
                    let mut ex = Excerpt::new(&ESC_MARKER.to_string());
                    while let Some(i) = it.next_if(|c| (' '..='/').contains(c)) {
                        ex.push(i);
                    }
                    if let Some(f) = it.next_if(|c| ('0'..='~').contains(c)) {
                        ex.push(f);
                    }
                    self.line.marker(&ex.finish(""));
                }
                Some(f @ '0'..='~') => {
                    // Two-character escapes: `ESC c` (reset), `ESC 7`, `ESC =`, `ESC \` (ST), …
                    it.next();
                    self.line.marker(&format!("{ESC_MARKER}{f}"));
                }
                _ => self.line.marker_char(ESC_MARKER),
            }
            return;
        }
    }

    /// CSI body: parameter and intermediate bytes, then one final byte. Anything else ends the
    /// sequence and is processed on its own.
    fn csi<I: Iterator<Item = char>>(&mut self, it: &mut std::iter::Peekable<I>, intro: char) {
        let mut ex = Excerpt::new(&format!("{ESC_MARKER}{intro}"));
        while let Some(c) = it.next_if(|c| (' '..='?').contains(c)) {
            ex.push(c);
        }
        if let Some(f) = it.next_if(|c| ('@'..='~').contains(c)) {
            ex.push(f);
        }
        self.line.marker(&ex.finish(""));
    }

    fn string_sequence<I: Iterator<Item = char>>(
        &mut self,
        it: &mut std::iter::Peekable<I>,
        intro: char,
    ) {
        if self.string_sequence_inner(it, intro) {
            self.escape(it);
        }
    }

    /// OSC, DCS, SOS, PM and APC bodies. Returns true when the body ended at an ESC that was
    /// consumed but starts another sequence.
    fn string_sequence_inner<I: Iterator<Item = char>>(
        &mut self,
        it: &mut std::iter::Peekable<I>,
        intro: char,
    ) -> bool {
        let mut ex = Excerpt::new(&format!("{ESC_MARKER}{intro}"));
        let mut chained = false;
        loop {
            match it.peek().copied() {
                // A line break, CAN, SUB or another C1 control ends the body and is then
                // processed on its own.
                None
                | Some(
                    '\n' | '\r' | '\u{18}' | '\u{1A}' | '\u{80}'..='\u{9B}' | '\u{9D}'..='\u{9F}',
                ) => break,
                Some('\u{7}' | '\u{9C}') => {
                    it.next();
                    break;
                }
                Some('\u{1B}') => {
                    it.next();
                    chained = it.next_if_eq(&'\\').is_none();
                    break;
                }
                Some(c) => {
                    it.next();
                    ex.push(c);
                }
            }
        }
        self.line.marker(&ex.finish(""));
        chained
    }

    /// A run of tag characters, up to and including the first CANCEL TAG. Right after `🏴`, a
    /// well-formed emoji tag sequence becomes its subdivision code as a flag (`[GB-SCT]`);
    /// anything else is shown decoded.
    fn tags<I: Iterator<Item = char>>(&mut self, first: char, it: &mut std::iter::Peekable<I>) {
        let after_flag = !self.line.needs_base && self.line.text.ends_with(BLACK_FLAG);
        let mut spec = String::new();
        let mut spec_ok = true;
        let mut len = 0usize;
        let mut ex = Excerpt::new("⟨TAG:");
        let mut c = first;
        loop {
            len += 1;
            if c == CANCEL_TAG {
                break;
            }
            spec_ok &= matches!(c, '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}');
            match char::from_u32(u32::from(c) - 0xE0000) {
                Some(ascii @ ' '..='~') => {
                    ex.push(ascii);
                    if spec.len() < MAX_TAG_SPEC {
                        spec.push(ascii.to_ascii_uppercase());
                    }
                }
                _ => ex.hidden = true,
            }
            match it.next_if(|n| ('\u{E0000}'..='\u{E007F}').contains(n)) {
                Some(n) => c = n,
                None => break,
            }
        }
        let valid =
            after_flag && spec_ok && c == CANCEL_TAG && (2..=MAX_TAG_SPEC + 1).contains(&len);
        if valid {
            self.line.pop_plain();
            // CLDR subdivision ids: a two-letter region, then the subdivision (`gbsct`).
            if spec.len() > 2 && spec.bytes().take(2).all(|b| b.is_ascii_alphabetic()) {
                spec.insert(2, '-');
            }
            self.line.marker(&format!("[{spec}]"));
        } else {
            self.line.marker(&ex.finish("⟩"));
        }
    }
}

fn control_picture(c: char) -> char {
    char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{FFFD}')
}

fn c1_name(c: char) -> &'static str {
    const NAMES: [&str; 32] = [
        "PAD", "HOP", "BPH", "NBH", "IND", "NEL", "SSA", "ESA", "HTS", "HTJ", "VTS", "PLD", "PLU",
        "RI", "SS2", "SS3", "DCS", "PU1", "PU2", "STS", "CCH", "MW", "SPA", "EPA", "SOS", "SGC",
        "SCI", "CSI", "ST", "OSC", "PM", "APC",
    ];
    let i = usize::try_from(u32::from(c).wrapping_sub(0x80)).unwrap_or(usize::MAX);
    NAMES.get(i).copied().unwrap_or("C1")
}

/// Named placeholders for bidi controls and the common invisible characters.
fn invisible_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00AD}' => "SHY",
        '\u{061C}' => "ALM",
        '\u{180E}' => "MVS",
        '\u{200B}' => "ZWSP",
        '\u{200C}' => "ZWNJ",
        '\u{200E}' => "LRM",
        '\u{200F}' => "RLM",
        '\u{2028}' => "LS",
        '\u{2029}' => "PS",
        '\u{202A}' => "LRE",
        '\u{202B}' => "RLE",
        '\u{202C}' => "PDF",
        '\u{202D}' => "LRO",
        '\u{202E}' => "RLO",
        '\u{2060}' => "WJ",
        '\u{2066}' => "LRI",
        '\u{2067}' => "RLI",
        '\u{2068}' => "FSI",
        '\u{2069}' => "PDI",
        '\u{FEFF}' => "BOM",
        '\u{FFF9}' => "IAA",
        '\u{FFFA}' => "IAS",
        '\u{FFFB}' => "IAT",
        _ => return None,
    })
}

/// Format characters (General Category Cf, Unicode 16) not named above, and the Hangul fillers,
/// which are invisible and whose width terminals disagree on.
fn is_other_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{0600}'..='\u{0605}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_private_use(c: char) -> bool {
    matches!(
        c,
        '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}'
    )
}

fn is_mark(c: char) -> bool {
    is_combining_mark(c) || canonical_combining_class(c) != 0
}

fn is_emoji_modifier(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

const REGIONAL_INDICATOR_A: char = '\u{1F1E6}';
const REGIONAL_INDICATOR_Z: char = '\u{1F1FF}';

/// The ASCII capital a regional indicator stands for.
fn regional_letter(c: char) -> char {
    char::from_u32(u32::from(c) - u32::from(REGIONAL_INDICATOR_A) + u32::from('A')).unwrap_or('?')
}

/// The halfwidth (semi-)voiced sound marks become their compatibility mappings, the combining
/// marks U+3099 / U+309A: ratatui draws U+FF9E / U+FF9F two columns wide, terminals one.
fn halfwidth_sound_mark_to_combining(c: char) -> char {
    match c {
        '\u{FF9E}' => '\u{3099}',
        '\u{FF9F}' => '\u{309A}',
        _ => c,
    }
}

/// Characters the sanitizer drops: they only choose a glyph, and terminals disagree on the width
/// of the sequences they form (see the module docs). Variation selectors VS1–VS16 and skin-tone
/// modifiers; ideographic variation selectors (U+E0100–U+E01EF) are kept.
fn is_dropped(c: char) -> bool {
    ('\u{FE00}'..='\u{FE0F}').contains(&c) || is_emoji_modifier(c)
}

/// Extended_Pictographic, asked of `unicode-segmentation` so it tracks its Unicode version:
/// only an Extended_Pictographic character, an Extend character, a ZWJ or a SpacingMark stays in
/// one grapheme after `😀 ZWJ` (GB9, GB9a, GB11), and only the last three also stay in one
/// grapheme after `a`.
fn is_extended_pictographic(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    let mut after_zwj = String::with_capacity(12);
    after_zwj.push('\u{1F600}');
    after_zwj.push(ZWJ);
    let at = after_zwj.len();
    after_zwj.push(c);
    let mut after_letter = String::with_capacity(5);
    after_letter.push('a');
    after_letter.push(c);
    !is_grapheme_boundary(&after_zwj, at) && is_grapheme_boundary(&after_letter, 1)
}

fn is_grapheme_boundary(s: &str, at: usize) -> bool {
    GraphemeCursor::new(at, s.len(), true)
        .is_boundary(s, 0)
        .unwrap_or(true)
}

/// Code points that glibc 2.36 `wcwidth` (and so tmux) draws wider than `unicode-width` says;
/// found by comparing the two over all assigned code points. Mostly the second halves of
/// two-part Indic vowel signs, Prepended letters, Hangul tone marks and circled numbers.
const TERMINAL_WIDER: &[(char, char, usize)] = &[
    ('\u{09BE}', '\u{09BE}', 1),
    ('\u{09D7}', '\u{09D7}', 1),
    ('\u{0B3E}', '\u{0B3E}', 1),
    ('\u{0B57}', '\u{0B57}', 1),
    ('\u{0BBE}', '\u{0BBE}', 1),
    ('\u{0BD7}', '\u{0BD7}', 1),
    ('\u{0CC0}', '\u{0CC0}', 1),
    ('\u{0CC2}', '\u{0CC2}', 1),
    ('\u{0CC7}', '\u{0CC8}', 1),
    ('\u{0CCA}', '\u{0CCB}', 1),
    ('\u{0CD5}', '\u{0CD6}', 1),
    ('\u{0D3E}', '\u{0D3E}', 1),
    ('\u{0D4E}', '\u{0D4E}', 1),
    ('\u{0D57}', '\u{0D57}', 1),
    ('\u{0DCF}', '\u{0DCF}', 1),
    ('\u{0DDF}', '\u{0DDF}', 1),
    ('\u{1715}', '\u{1715}', 1),
    ('\u{1734}', '\u{1734}', 1),
    ('\u{1B35}', '\u{1B35}', 1),
    ('\u{1B3B}', '\u{1B3B}', 1),
    ('\u{1B3D}', '\u{1B3D}', 1),
    ('\u{1B43}', '\u{1B44}', 1),
    ('\u{1BAA}', '\u{1BAA}', 1),
    ('\u{1BF2}', '\u{1BF3}', 1),
    ('\u{302E}', '\u{302F}', 2),
    ('\u{3248}', '\u{324F}', 2),
    ('\u{A8FA}', '\u{A8FA}', 1),
    ('\u{A953}', '\u{A953}', 1),
    ('\u{A9C0}', '\u{A9C0}', 1),
    ('\u{111C0}', '\u{111C0}', 1),
    ('\u{111C2}', '\u{111C3}', 1),
    ('\u{11235}', '\u{11235}', 1),
    ('\u{1133E}', '\u{1133E}', 1),
    ('\u{1134D}', '\u{1134D}', 1),
    ('\u{11357}', '\u{11357}', 1),
    ('\u{114B0}', '\u{114B0}', 1),
    ('\u{114BD}', '\u{114BD}', 1),
    ('\u{115AF}', '\u{115AF}', 1),
    ('\u{116B6}', '\u{116B6}', 1),
    ('\u{11930}', '\u{11930}', 1),
    ('\u{1193D}', '\u{1193D}', 1),
    ('\u{1193F}', '\u{1193F}', 1),
    ('\u{11941}', '\u{11941}', 1),
    ('\u{11A84}', '\u{11A89}', 1),
    ('\u{11D46}', '\u{11D46}', 1),
    ('\u{16FF0}', '\u{16FF1}', 2),
    ('\u{1D165}', '\u{1D166}', 1),
    ('\u{1D16D}', '\u{1D172}', 1),
];

/// Width of one code point as the widest of `unicode-width` and the terminal tables we know.
fn char_width(c: char) -> usize {
    let uw = c.width().unwrap_or(0);
    let wider = TERMINAL_WIDER
        .binary_search_by(|&(lo, hi, _)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .ok()
        .and_then(|i| TERMINAL_WIDER.get(i))
        .map_or(0, |&(_, _, w)| w);
    uw.max(wider)
}

/// The width ratatui gives a grapheme (`ratatui_core::buffer::CellWidth for str`).
fn ratatui_grapheme_width(g: &str) -> usize {
    if g.len() == 1 {
        return 1;
    }
    let halfwidth_sound_marks = g
        .chars()
        .filter(|c| matches!(c, '\u{FF9E}' | '\u{FF9F}'))
        .count();
    g.width() + halfwidth_sound_marks
}

fn grapheme_width(g: &str) -> usize {
    let parts: usize = g.chars().map(char_width).sum();
    ratatui_grapheme_width(g).max(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

    fn line(s: &str) -> String {
        sanitize_line(s).into_string()
    }

    /// Whether `c` is a character the output must never hold outside an emoji sequence.
    fn is_forbidden(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{200E}'
                    | '\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{200B}'
                    | '\u{200C}'
                    | '\u{2060}'
                    | '\u{FEFF}'
                    | '\u{180E}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{FFF9}'..='\u{FFFB}'
                    | '\u{00AD}'
                    | '\u{3164}'
                    | '\u{FFA0}'
            )
            || is_other_invisible(c)
            || !(is_public_assigned(c) || is_private_use(c))
    }

    /// Every grapheme is as wide for ratatui as the sum of its code points: terminals that
    /// measure per code point lay it out in the same columns.
    fn assert_widths_agree(s: &str) {
        for g in s.graphemes(true) {
            let parts: usize = g.chars().map(|c| c.width().unwrap_or(0)).sum();
            assert_eq!(
                ratatui_grapheme_width(g),
                parts,
                "{g:?} ({:X?}) in {s:?}",
                g.chars().map(u32::from).collect::<Vec<_>>()
            );
        }
    }

    /// The safety property: no control, bidi or invisible character (not even a ZWJ inside an
    /// emoji sequence or tags inside a flag), and none of the emoji parts whose width terminals
    /// disagree on: variation selectors, skin-tone modifiers, regional indicators.
    fn assert_safe(s: &str) {
        for c in s.chars() {
            assert!(!is_forbidden(c), "forbidden {:04X} in {s:?}", u32::from(c));
            assert!(
                c != ZWJ
                    && !('\u{E0000}'..='\u{E007F}').contains(&c)
                    && !is_dropped(c)
                    && !(REGIONAL_INDICATOR_A..=REGIONAL_INDICATOR_Z).contains(&c),
                "emoji sequence part {:04X} in {s:?}",
                u32::from(c)
            );
        }
        assert_widths_agree(s);
        let mut run = 0;
        for c in s.chars() {
            if is_mark(c) {
                run += 1;
                assert!(run <= MAX_COMBINING_MARKS, "mark stack in {s:?}");
            } else {
                run = 0;
            }
        }
        assert!(is_nfc(s), "not NFC: {s:?}");
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(line("Hello, world!"), "Hello, world!");
        assert_eq!(line("Привет, мир"), "Привет, мир");
        assert_eq!(line("中文 日本語"), "中文 日本語");
        assert_eq!(line(""), "");
    }

    #[test]
    fn csi_colour_and_cursor_moves() {
        assert_eq!(line("\x1b[31mred\x1b[0m"), "␛[31mred␛[0m");
        assert_eq!(line("a\x1b[2J\x1b[Hb"), "a␛[2J␛[Hb");
        assert_eq!(line("\x1b[10;20H"), "␛[10;20H");
        assert_eq!(line("\x1b[?1049h"), "␛[?1049h");
        assert_eq!(line("\x1b[1A\x1b[2K"), "␛[1A␛[2K");
    }

    #[test]
    fn osc_window_title_with_bel_and_st() {
        assert_eq!(line("\x1b]0;pwned\x07after"), "␛]0;pwnedafter");
        assert_eq!(line("\x1b]0;pwned\x1b\\after"), "␛]0;pwnedafter");
        assert_eq!(line("\u{9d}0;pwned\u{9c}after"), "␛]0;pwnedafter");
        assert_eq!(line("\x1b]2;Заголовок\x07x"), "␛]2;…x");
    }

    #[test]
    fn osc52_clipboard_is_cut_short() {
        let payload = "Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==".repeat(300);
        let s = line(&format!("\x1b]52;c;{payload}\x07rest"));
        assert_eq!(s, "␛]52;c;Y3VybCBldml…rest");
        assert_eq!(
            line("\x1b]52;c;SGVsbG8gV29ybGQ=\x07"),
            "␛]52;c;SGVsbG8gV29…"
        );
        assert!(sanitize_line(&format!("\x1b]52;c;{payload}\x07")).width() <= 30);
    }

    #[test]
    fn osc8_hyperlink() {
        let s = line("\x1b]8;;https://evil.example/login\x1b\\Your bank\x1b]8;;\x1b\\");
        assert_eq!(s, "␛]8;;https://evil.…Your bank␛]8;;");
    }

    #[test]
    fn dcs_apc_pm_sos() {
        let big = "q".repeat(10 * 1024);
        assert_eq!(
            line(&format!("\x1bP{big}\x1b\\ok")),
            "␛Pqqqqqqqqqqqqqqqq…ok"
        );
        assert_eq!(line("\x1b_Gi=1;AAAA\x1b\\ok"), "␛_Gi=1;AAAAok");
        assert_eq!(line("\x1b^pm\x1b\\ok"), "␛^pmok");
        assert_eq!(line("\x1bXsos\x1b\\ok"), "␛Xsosok");
        assert_eq!(line("\u{90}1$r\u{9c}ok"), "␛P1$rok");
        assert_eq!(line("\u{9f}apc\u{9c}ok"), "␛_apcok");
    }

    #[test]
    fn eight_bit_csi() {
        assert_eq!(line("\u{9b}31mred"), "␛[31mred");
        assert_eq!(line("\u{9b}2J"), "␛[2J");
    }

    #[test]
    fn short_escapes_and_charsets() {
        assert_eq!(line("\x1bc"), "␛c");
        assert_eq!(line("\x1b7x\x1b8"), "␛7x␛8");
        assert_eq!(line("\x1b(0lqqk\x1b(B"), "␛(0lqqk␛(B");
        assert_eq!(line("\x1b#8"), "␛#8");
        assert_eq!(line("a\x1b"), "a␛");
        assert_eq!(line("\x1b\x1b[1m"), "␛␛[1m");
        assert_eq!(line("\x1bé"), "␛é");
    }

    #[test]
    fn unterminated_sequences() {
        assert_eq!(line("x\x1b]0;title never ends"), "x␛]0;title never en…");
        assert_eq!(line("x\x1b[12;"), "x␛[12;");
        assert_eq!(line("x\x1bP"), "x␛P");
        assert_eq!(line("\u{9d}"), "␛]");
        // A string sequence never swallows the following lines.
        let lines = sanitize_block("a\x1b]0;oops\nsecond line");
        assert_eq!(lines, vec!["a␛]0;oops", "second line"]);
    }

    #[test]
    fn chained_sequences() {
        assert_eq!(line("\x1b]0;a\x1b]0;b\x07c"), "␛]0;a␛]0;bc");
        assert_eq!(line("\x1b]0;a\x1b[31mc"), "␛]0;a␛[31mc");
        assert_eq!(line("\x1b]0;a\u{18}b"), "␛]0;a␘b");
    }

    #[test]
    fn c0_controls_and_del() {
        assert_eq!(line("a\0b"), "a␀b");
        assert_eq!(line("ding\x07"), "ding␇");
        assert_eq!(line("abc\x08\x08\x08xyz"), "abc␈␈␈xyz");
        assert_eq!(line("a\x7fb"), "a␡b");
        assert_eq!(line("\x0b\x0c\x1f"), "␋␌␟");
    }

    #[test]
    fn carriage_return_overwrite_trick() {
        assert_eq!(line("Paid in full\rUNPAID"), "Paid in full␍UNPAID");
        assert_eq!(
            sanitize_block("Paid in full\rUNPAID\r\nnext"),
            vec!["Paid in full␍UNPAID", "next"]
        );
    }

    #[test]
    fn newlines_in_lines_and_blocks() {
        assert_eq!(line("a\nb\r\nc"), "a⏎b⏎c");
        assert_eq!(sanitize_block("a\nb\r\nc"), vec!["a", "b", "c"]);
        assert_eq!(sanitize_block("a\n"), vec!["a", ""]);
        assert_eq!(sanitize_block(""), vec![""]);
        assert_eq!(sanitize_block("\n\n"), vec!["", "", ""]);
    }

    #[test]
    fn c1_controls() {
        assert_eq!(line("a\u{85}b"), "a⟨NEL⟩b");
        assert_eq!(line("a\u{84}b\u{9c}c"), "a⟨IND⟩b⟨ST⟩c");
        assert_eq!(line("\u{8e}x"), "⟨SS2⟩x");
    }

    #[test]
    fn bidi_controls() {
        assert_eq!(line("invoice\u{202E}fdp.exe"), "invoice⟨RLO⟩fdp.exe");
        assert_eq!(line("\u{2067}abc\u{2069}"), "⟨RLI⟩abc⟨PDI⟩");
        assert_eq!(
            line("\u{2066}\u{2068}\u{202A}\u{202B}\u{202C}\u{202D}"),
            "⟨LRI⟩⟨FSI⟩⟨LRE⟩⟨RLE⟩⟨PDF⟩⟨LRO⟩"
        );
        assert_eq!(line("\u{200E}\u{200F}\u{61C}"), "⟨LRM⟩⟨RLM⟩⟨ALM⟩");
    }

    #[test]
    fn zero_width_characters() {
        assert_eq!(line("pay\u{200B}pal"), "pay⟨ZWSP⟩pal");
        assert_eq!(
            line("a\u{200C}b\u{2060}c\u{FEFF}d\u{180E}e"),
            "a⟨ZWNJ⟩b⟨WJ⟩c⟨BOM⟩d⟨MVS⟩e"
        );
        assert_eq!(line("a\u{2028}b\u{2029}c"), "a⟨LS⟩b⟨PS⟩c");
        assert_eq!(line("a\u{AD}b"), "a⟨SHY⟩b");
        assert_eq!(line("a\u{FFF9}b\u{FFFA}c\u{FFFB}"), "a⟨IAA⟩b⟨IAS⟩c⟨IAT⟩");
        assert_eq!(line("a\u{2062}b\u{3164}c"), "a⟨U+2062⟩b⟨U+3164⟩c");
    }

    #[test]
    fn zwj_in_word_vs_in_emoji() {
        assert_eq!(line("ad\u{200D}min"), "ad⟨ZWJ⟩min");
        // Between two emoji the joiner goes: the sequence becomes its members.
        assert_eq!(line("👩\u{200D}💻"), "👩💻");
        assert_eq!(line("👨\u{200D}👩\u{200D}👧"), "👨👩👧");
        assert_eq!(line("🏳\u{FE0F}\u{200D}🌈"), "🏳🌈");
        assert_eq!(line("👩🏽\u{200D}💻"), "👩💻");
        assert_eq!(line("👩\u{200D}❤\u{FE0F}\u{200D}👨"), "👩❤👨");
        assert_eq!(line("👁\u{FE0F}\u{200D}🗨\u{FE0F}"), "👁🗨");
        // Joiner after text, before text, dangling, doubled, after a placeholder.
        assert_eq!(line("a\u{200D}💻"), "a⟨ZWJ⟩💻");
        assert_eq!(line("💻\u{200D}a"), "💻⟨ZWJ⟩a");
        assert_eq!(line("💻\u{200D}"), "💻⟨ZWJ⟩");
        assert_eq!(line("💻\u{200D}\u{200D}💻"), "💻⟨ZWJ⟩⟨ZWJ⟩💻");
        assert_eq!(line("👩\u{200C}\u{200D}💻"), "👩⟨ZWNJ⟩⟨ZWJ⟩💻");
        assert_eq!(line("🇷🇺\u{200D}💻"), "[RU]⟨ZWJ⟩💻");
    }

    #[test]
    fn single_code_point_emoji_are_kept() {
        for e in ["😀", "🙏", "🔐", "👍", "❤", "☠", "🏳", "🏴", "💻", "©"] {
            assert_eq!(line(e), e);
        }
    }

    #[test]
    fn emoji_sequences_become_what_terminals_agree_on() {
        assert_eq!(line("👍🏽"), "👍");
        assert_eq!(line("👍🏻👍🏿"), "👍👍");
        assert_eq!(line("❤\u{FE0F}"), "❤");
        assert_eq!(line("😀\u{FE0E}"), "😀");
        assert_eq!(line("1\u{FE0F}\u{20E3}"), "1\u{20E3}");
        assert_eq!(line("#\u{FE0F}\u{20E3}"), "#\u{20E3}");
        assert_eq!(line("🏴\u{200D}☠\u{FE0F}"), "🏴☠");
        assert_eq!(line("‘\u{FE01}quote’"), "‘quote’");
        // A lone modifier (a colour swatch) goes too.
        assert_eq!(line("a🏽b"), "ab");
        // The demo note of request #360.
        assert_eq!(
            line("Спасибо за помощь! 🙏🔐👍🏽 👨\u{200D}👩\u{200D}👧 🇷🇺 ❤\u{FE0F}"),
            "Спасибо за помощь! 🙏🔐👍 👨👩👧 [RU] ❤"
        );
    }

    #[test]
    fn dropped_selectors_do_not_block_composition() {
        // Removed before NFC: the letter and its mark compose as if the selector were not there,
        // so the output is NFC and a second pass changes nothing.
        assert_eq!(line("e\u{FE0F}\u{0301}"), "é");
        assert_eq!(line("e🏽\u{0301}"), "é");
        assert_eq!(line("a\u{FE00}b"), "ab");
        // Ideographic variation selectors stay (width 0 everywhere).
        assert_eq!(line("葛\u{E0100}"), "葛\u{E0100}");
    }

    #[test]
    fn flags_are_spelled_out() {
        assert_eq!(line("🇫🇷"), "[FR]");
        assert_eq!(line("🇺🇦 и 🇷🇺"), "[UA] и [RU]");
        assert_eq!(line("🇫🇷🇩🇪"), "[FR][DE]");
        // Indicators pair from the left, as UAX #29 groups them; an odd one stands alone.
        assert_eq!(line("🇫🇷🇩"), "[FR][D]");
        assert_eq!(line("🇷"), "[R]");
        assert_eq!(line("a🇷b"), "a[R]b");
        // A flag is a placeholder: styled as such, and a mark after it gets its own base.
        let s = sanitize_line("x🇷🇺\u{0301}");
        assert_eq!(s, "x[RU]◌\u{0301}");
        assert_eq!(
            s.segments().collect::<Vec<_>>(),
            vec![
                Segment::Text("x"),
                Segment::Marker("[RU]"),
                Segment::Marker("◌"),
                Segment::Text("\u{0301}"),
            ]
        );
        // A client typing the spelled-out form gets plain text.
        assert_eq!(
            sanitize_line("[RU]").segments().collect::<Vec<_>>(),
            vec![Segment::Text("[RU]")]
        );
    }

    #[test]
    fn tag_characters() {
        let scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(line(scotland), "[GB-SCT]");
        assert_eq!(line(&format!("a {scotland} b")), "a [GB-SCT] b");
        assert_eq!(
            sanitize_line(scotland).segments().collect::<Vec<_>>(),
            vec![Segment::Marker("[GB-SCT]")]
        );
        // ASCII smuggling: tags outside a flag are decoded and shown.
        let hidden: String = "ignore all"
            .chars()
            .filter_map(|c| char::from_u32(u32::from(c) + 0xE0000))
            .collect();
        assert_eq!(line(&format!("hi{hidden}!")), "hi⟨TAG:ignore all⟩!");
        assert_eq!(line("a\u{E0067}\u{E0062}\u{E007F}"), "a⟨TAG:gb⟩");
        assert_eq!(line("🏴\u{E0047}\u{E007F}"), "🏴⟨TAG:G⟩");
        assert_eq!(line("🏴\u{E0067}"), "🏴⟨TAG:g⟩");
        assert_eq!(line("\u{E0001}\u{E0065}\u{E006E}"), "⟨TAG:…⟩");
        assert_eq!(
            line(&format!("{scotland}\u{E0067}\u{E007F}")),
            "[GB-SCT]⟨TAG:g⟩"
        );
    }

    #[test]
    fn zalgo_is_capped() {
        let zalgo = "Z\u{0351}\u{036B}\u{0343}\u{036A}\u{0302}\u{036B}\u{033D}a\u{0300}\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}";
        let s = line(zalgo);
        assert_eq!(
            s,
            "Z\u{0351}\u{036B}\u{0313}\u{00E0}\u{0301}\u{0302}\u{0303}"
        );
        assert_safe(&s);
    }

    #[test]
    fn orphan_marks_get_a_base() {
        assert_eq!(line("\u{0301}x"), "◌\u{0301}x");
        assert_eq!(line("\x07\u{0301}"), "␇◌\u{0301}");
        // `m` + acute would compose to ḿ on a second pass without the dotted circle.
        assert_eq!(line("\x1b]0;m\x07\u{0301}"), "␛]0;m◌\u{0301}");
        assert_eq!(sanitize_block("a\n\u{0301}"), vec!["a", "◌\u{0301}"]);
    }

    #[test]
    fn tabs_expand_to_tab_stops() {
        assert_eq!(line("\tx"), "    x");
        assert_eq!(line("ab\tc"), "ab  c");
        assert_eq!(line("abcd\te"), "abcd    e");
        assert_eq!(line("中\tx"), "中  x");
        assert_eq!(sanitize_block("a\tb\nabc\tb"), vec!["a   b", "abc b"]);
    }

    #[test]
    fn cyrillic_nfc() {
        // й written as и + combining breve becomes the precomposed letter; ё stays.
        assert_eq!(line("и\u{0306}од, ё, е\u{0308}"), "йод, ё, ё");
        assert_eq!(line("Пе\u{0301}тя"), "Пе\u{0301}тя"); // no precomposed е́: stays decomposed
        assert_eq!(line("Å"), "Å"); // U+212B ANGSTROM SIGN → U+00C5
    }

    #[test]
    fn unassigned_and_noncharacters() {
        assert_eq!(line("a\u{0378}b\u{FFFF}c"), "a⟨U+0378⟩b⟨U+FFFF⟩c");
        assert_eq!(line("a\u{E000}b"), "a\u{E000}b"); // private use is harmless
    }

    #[test]
    fn ten_kilobyte_line() {
        let unit = "Ünïcödé \x1b[31m👩\u{200D}💻\u{202E}\t";
        let big = unit.repeat(10 * 1024 / unit.len() + 1);
        assert!(big.len() >= 10 * 1024);
        let s = sanitize_line(&big);
        assert_safe(s.as_str());
        assert_eq!(sanitize_line(s.as_str()), s);
        let capped = sanitize_line_capped(&big, 80);
        assert!(capped.as_str().chars().count() <= 80);
        assert!(capped.as_str().ends_with(ELLIPSIS));
    }

    #[test]
    fn megabyte_inputs_are_linear() {
        let huge_csi = format!("\x1b[{}m", "1;".repeat(512 * 1024));
        assert_eq!(line(&huge_csi), "␛[1;1;1;1;1;1;1;1;…");
        let huge_osc = format!("\x1b]52;c;{}", "A".repeat(1 << 20));
        assert_eq!(line(&huge_osc), "␛]52;c;AAAAAAAAAAA…");
        let marks = format!("a{}", "\u{0301}".repeat(1 << 19));
        assert_eq!(line(&marks), "á\u{301}\u{301}\u{301}"); // á is one base after NFC
        let tags: String = std::iter::repeat_n('\u{E0041}', 1 << 18).collect();
        assert_eq!(line(&tags), "⟨TAG:AAAAAAAAAAAAAAAA…⟩");
        let text = "Съешь же ещё этих мягких французских булок. ".repeat(16 * 1024);
        let lines = sanitize_block(&text);
        assert_eq!(lines.len(), 1);
        assert_eq!(sanitize_line_capped(&text, 10), "Съешь же …");
    }

    #[test]
    fn capped_line() {
        assert_eq!(sanitize_line_capped("hello world", 5), "hell…");
        assert_eq!(sanitize_line_capped("hello", 5), "hello");
        assert_eq!(sanitize_line_capped("hello", 0), "");
        assert_eq!(
            sanitize_line_capped("👨\u{200D}👩\u{200D}👧abc", 4),
            "👨👩👧…"
        );
        assert_eq!(sanitize_line_capped("ab👨\u{200D}👩\u{200D}👧", 4), "ab👨…");
        assert_eq!(sanitize_line_capped("🇷🇺🇺🇦", 6), "[RU][…"); // like any placeholder, cut short
        assert_eq!(sanitize_line_capped("\x1b[31mred", 6), "␛[31m…");
    }

    #[test]
    fn widths() {
        let w = |s: &str| sanitize_line(s).width();
        assert_eq!(w("abc"), 3);
        assert_eq!(w("中文"), 4);
        assert_eq!(w("é"), 1);
        // Emoji sequences are reduced to parts every measure agrees on.
        for (s, cols) in [
            ("🇫🇷", 4),
            ("❤\u{FE0F}", 1),
            ("👍🏽", 2),
            ("👩\u{200D}💻", 4),
            ("👨\u{200D}👩\u{200D}👧", 6),
            ("🏳\u{FE0F}\u{200D}🌈", 3),
            ("😀\u{FE0E}", 2),
        ] {
            assert_eq!(w(s), cols, "{s:?}");
            assert_eq!(sanitize_line(s).ratatui_width(), cols, "{s:?}");
        }
        assert_eq!(w("கா"), 2); // glibc draws the Tamil vowel sign one column wide
        assert_eq!(w("\x1b[31m"), 5);
        assert_eq!(display_width(&sanitize_line("ab")), 2);
    }

    #[test]
    fn fit_truncates_at_graphemes() {
        let s = sanitize_line("Привет, мир");
        assert_eq!(fit(&s, 20), s);
        assert_eq!(fit(&s, 11), "Привет, мир");
        assert_eq!(fit(&s, 7), "Привет…");
        assert_eq!(fit(&s, 1), "…");
        assert_eq!(fit(&s, 0), "");
        let e = sanitize_line("ab👩\u{200D}💻cd");
        assert_eq!(fit(&e, 7), "ab👩💻…");
        assert_eq!(fit(&e, 6), "ab👩…");
        assert_eq!(fit(&e, 4), "ab…");
        let cjk = sanitize_line("中文字");
        assert_eq!(fit(&cjk, 4), "中…");
        assert_eq!(fit(&sanitize_line("e\u{0301}\u{0302}xyz"), 2), "é\u{0302}…");
    }

    #[test]
    fn segments_separate_placeholders() {
        let s = sanitize_line("a\x1b[1mb\u{202E}c\x07");
        let segs: Vec<Segment<'_>> = s.segments().collect();
        assert_eq!(
            segs,
            vec![
                Segment::Text("a"),
                Segment::Marker("␛[1m"),
                Segment::Text("b"),
                Segment::Marker("⟨RLO⟩"),
                Segment::Text("c"),
                Segment::Marker("␇"),
            ]
        );
        // A client typing a placeholder look-alike gets plain text.
        let fake = sanitize_line("␛[1m⟨RLO⟩");
        assert_eq!(
            fake.segments().collect::<Vec<_>>(),
            vec![Segment::Text("␛[1m⟨RLO⟩")]
        );
        let cut = fit(&s, 4);
        assert_eq!(
            cut.segments().collect::<Vec<_>>(),
            vec![
                Segment::Text("a"),
                Segment::Marker("␛["),
                Segment::Marker("…")
            ]
        );
    }

    #[test]
    fn placeholders_are_inert_and_single_width() {
        let mut all = String::from("␛⏎◌…⟨⟩U+0123456789ABCDEF:");
        for c in ('\0'..='\u{1F}').chain(['\u{7F}']) {
            all.push(if c == '\u{7F}' {
                '␡'
            } else {
                control_picture(c)
            });
        }
        for c in '\u{80}'..='\u{9F}' {
            all.push_str(c1_name(c));
        }
        for c in all.chars() {
            assert!(!is_forbidden(c), "{c:?}");
            assert!(!is_mark(c), "{c:?}");
            assert!(!is_extended_pictographic(c), "{c:?}");
            assert_eq!(c.width(), Some(1), "{c:?}");
            assert_eq!(char_width(c), 1, "{c:?}");
            // No placeholder end composes with a following mark (after ASCII, which ends escape
            // excerpts, the sanitizer inserts `◌`; see `orphan_marks_get_a_base`).
            if c.is_ascii() {
                continue;
            }
            let composed: String = format!("{c}\u{0301}").nfc().collect();
            assert_eq!(composed.chars().count(), 2, "{c:?}");
        }
        assert_eq!(sanitize_line(&all), all.as_str());
    }

    #[test]
    fn extended_pictographic_probe() {
        for c in ['😀', '💻', '👩', '❤', '©', '🏴', '☠', '🌈'] {
            assert!(is_extended_pictographic(c), "{c:?}");
        }
        for c in [
            'a',
            'й',
            '中',
            '\u{1F3FD}',
            '\u{FE0F}',
            '\u{200D}',
            '\u{0301}',
            '🇫',
            '#',
        ] {
            assert!(!is_extended_pictographic(c), "{c:?}");
        }
    }

    #[test]
    fn terminal_wider_table_is_sorted() {
        for pair in TERMINAL_WIDER.windows(2) {
            assert!(pair[0].1 < pair[1].0);
        }
        assert!(TERMINAL_WIDER.iter().all(|&(lo, hi, _)| lo <= hi));
    }

    #[test]
    fn every_code_point_is_measured_alike_in_context() {
        // One long line per context (cheaper than a million small ones); neighbours only add
        // contexts. Every grapheme of the output must be as wide for ratatui as its parts.
        let all = || (0u32..=0x10_FFFF).filter_map(char::from_u32);
        for context in [
            |c: char| format!("a{c}"),
            |c: char| format!("{c}\u{0301} "),
            |c: char| format!("😀{c}\u{200D}😀 "),
            |c: char| format!("ᄀ{c}"),
        ] {
            let text: String = all().map(context).collect();
            assert_widths_agree(sanitize_line(&text).as_str());
        }
        assert_eq!(line("ｶﾞｷﾟ"), "ｶ\u{3099}ｷ\u{309A}");
        assert_eq!(line("カﾞ"), "ガ"); // composes after the mapping
        assert_eq!(line("ﾞ"), "◌\u{3099}");
    }

    // ---- property tests ----

    fn fragment() -> impl Strategy<Value = String> {
        let fixed = prop::sample::select(vec![
            "hello",
            " ",
            "world",
            "Привет",
            "ёлка",
            "и\u{0306}",
            "е\u{0308}",
            "中文",
            "é",
            "e\u{0301}",
            "\u{0301}",
            "\u{0302}\u{0303}\u{0304}\u{0305}",
            "\u{0323}",
            "\u{0B3E}",
            "\u{0B47}",
            "கா",
            "ᄀ",
            "ᅡ",
            "ᆨ",
            "😀",
            "👩\u{200D}💻",
            "👨\u{200D}👩\u{200D}👧",
            "🏳\u{FE0F}\u{200D}🌈",
            "👍🏽",
            "\u{1F3FD}",
            "❤\u{FE0F}",
            "1\u{FE0F}\u{20E3}",
            "🇫🇷",
            "🇫",
            "🇷🇺",
            "\u{1F1FA}",
            "👩\u{200D}❤\u{FE0F}\u{200D}👨",
            "👁\u{FE0F}\u{200D}🗨\u{FE0F}",
            "😀\u{FE0E}",
            "‘\u{FE01}",
            "\u{FE0E}",
            "🏻",
            "ｶﾞ",
            "ﾟ",
            "カ",
            "\u{3099}",
            "[RU]",
            "葛\u{E0100}",
            "🏴",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            "\u{E0067}",
            "\u{E007F}",
            "\u{E0001}",
            "\u{200D}",
            "\u{200C}",
            "\u{200B}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{180E}",
            "\u{2028}",
            "\u{2029}",
            "\u{202E}",
            "\u{202A}",
            "\u{2066}",
            "\u{2069}",
            "\u{200E}",
            "\u{200F}",
            "\u{061C}",
            "\u{00AD}",
            "\u{FFF9}",
            "\u{3164}",
            "\u{FE0F}",
            "\u{FE00}",
            "\x1b",
            "\x1b[",
            "\x1b[31m",
            "\x1b]0;title\x07",
            "\x1b]52;c;QUJD",
            "\x1b\\",
            "\x1bP",
            "\x1b_",
            "\x1b(0",
            "\x1bc",
            "\u{9b}",
            "\u{9d}",
            "\u{9c}",
            "\u{85}",
            "\u{90}",
            "\x07",
            "\x08",
            "\0",
            "\x7f",
            "\t",
            "\r",
            "\n",
            "\r\n",
            "m",
            "[",
            "]",
            ";",
            "\\",
            "0",
            "␛",
            "⟨ZWJ⟩",
            "◌",
            "…",
            "⏎",
            "\u{0378}",
            "\u{FFFF}",
            "\u{E000}",
            "Å",
        ])
        .prop_map(str::to_owned);
        prop_oneof![
            6 => fixed,
            1 => any::<char>().prop_map(String::from),
            1 => "[a-zа-я ]{0,6}",
        ]
    }

    fn messy_text() -> impl Strategy<Value = String> {
        prop::collection::vec(fragment(), 0..32).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn line_output_is_safe(s in messy_text()) {
            let out = sanitize_line(&s);
            assert_safe(out.as_str());
        }

        #[test]
        fn line_is_idempotent(s in messy_text()) {
            let once = sanitize_line(&s);
            let twice = sanitize_line(once.as_str());
            prop_assert_eq!(once.as_str(), twice.as_str());
        }

        #[test]
        fn block_is_safe_and_idempotent(s in messy_text()) {
            let once = sanitize_block(&s);
            for l in &once {
                assert_safe(l.as_str());
                prop_assert!(!l.as_str().contains('\n'));
            }
            let joined: Vec<&str> = once.iter().map(SafeText::as_str).collect();
            let twice = sanitize_block(&joined.join("\n"));
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn arbitrary_chars_are_safe_and_idempotent(s in any::<String>()) {
            let once = sanitize_line(&s);
            assert_safe(once.as_str());
            prop_assert_eq!(sanitize_line(once.as_str()), once);
        }

        #[test]
        fn capped_is_a_safe_prefix(s in messy_text(), max in 0usize..40) {
            let capped = sanitize_line_capped(&s, max);
            let full = sanitize_line(&s);
            prop_assert!(capped.as_str().chars().count() <= max);
            if full.as_str().chars().count() <= max {
                prop_assert_eq!(&capped, &full);
            } else if max > 0 {
                let kept = capped.as_str().strip_suffix(ELLIPSIS).unwrap_or_default();
                prop_assert!(full.as_str().starts_with(kept));
            }
            assert_safe(capped.as_str());
            prop_assert_eq!(sanitize_line(capped.as_str()), capped);
        }

        #[test]
        fn fit_never_exceeds_width(s in messy_text(), max in 0usize..40) {
            let full = sanitize_line(&s);
            let fitted = fit(&full, max);
            prop_assert!(fitted.width() <= max);
            prop_assert!(fitted.ratatui_width() <= max);
            prop_assert!(fitted.ratatui_width() <= fitted.width());
            assert_safe(fitted.as_str());
            prop_assert_eq!(sanitize_line(fitted.as_str()), fitted.clone());
            if full.width() <= max {
                prop_assert_eq!(&fitted, &full);
            } else if max > 0 {
                let kept = fitted.as_str().strip_suffix(ELLIPSIS).unwrap_or_default();
                prop_assert!(full.as_str().starts_with(kept));
            }
        }

        #[test]
        fn segments_cover_the_text(s in messy_text()) {
            let out = sanitize_line(&s);
            let joined: String = out
                .segments()
                .map(|seg| match seg {
                    Segment::Text(t) | Segment::Marker(t) => t,
                })
                .collect();
            prop_assert_eq!(joined.as_str(), out.as_str());
        }
    }
}

/// Splits `s` into lines of at most `width` columns (by the same conservative measure as
/// [`fit`]). Lines break at a space when there is one (the space goes), otherwise between
/// graphemes; a placeholder is never split. A single unit wider than `width` stands on a line
/// of its own (the caller clips it).
pub fn wrap(s: &SafeText, width: usize) -> Vec<SafeText> {
    /// An unbreakable piece: byte range, columns, whether it is a space a line may break at.
    struct Unit {
        from: usize,
        to: usize,
        cols: usize,
        space: bool,
    }
    let width = width.max(1);
    let mut units: Vec<Unit> = Vec::new();
    let mut pos = 0;
    let push_text = |from: usize, to: usize, units: &mut Vec<Unit>| {
        for (i, g) in s.text[from..to].grapheme_indices(true) {
            units.push(Unit {
                from: from + i,
                to: from + i + g.len(),
                cols: grapheme_width(g),
                space: g == " ",
            });
        }
    };
    for m in &s.markers {
        push_text(pos, m.start, &mut units);
        let cols = s.text[m.clone()].graphemes(true).map(grapheme_width).sum();
        units.push(Unit {
            from: m.start,
            to: m.end,
            cols,
            space: false,
        });
        pos = m.end;
    }
    push_text(pos, s.text.len(), &mut units);
    let mut lines = Vec::new();
    let (mut start, mut used) = (0, 0);
    // The last space on the current line: where the text before it ends, where the next
    // line would start, and the columns up to and including it.
    let mut space: Option<(usize, usize, usize)> = None;
    for u in units {
        if u.space && used + u.cols > width && used > 0 {
            lines.push(s.slice(start, u.from));
            (start, used, space) = (u.to, 0, None);
            continue;
        }
        while used + u.cols > width && used > 0 {
            if let Some((end, next, through)) = space.take() {
                lines.push(s.slice(start, end));
                start = next;
                used -= through;
            } else {
                lines.push(s.slice(start, u.from));
                start = u.from;
                used = 0;
            }
        }
        used += u.cols;
        if u.space && u.from > start {
            space = Some((u.from, u.to, used));
        }
    }
    lines.push(s.slice(start, s.text.len()));
    lines
}

impl SafeText {
    /// The text between two byte offsets at unit boundaries, placeholders kept.
    fn slice(&self, start: usize, end: usize) -> SafeText {
        let markers = self
            .markers
            .iter()
            .filter(|m| m.start >= start && m.end <= end)
            .map(|m| (m.start - start)..(m.end - start))
            .collect();
        SafeText {
            text: self.text[start..end].to_owned(),
            markers,
        }
    }
}

#[cfg(test)]
mod wrap_tests {
    use super::*;

    /// The text without spaces: wrapping drops the spaces it breaks at, nothing else.
    fn unspaced(s: &str) -> String {
        s.chars().filter(|&c| c != ' ').collect()
    }

    #[test]
    fn wrapping_keeps_widths_and_placeholders() {
        let s = sanitize_line("abc\u{1b}[31mdefghij 👩\u{200D}💻 klm");
        for width in 1..20 {
            let lines = wrap(&s, width);
            let joined: String = lines.iter().map(SafeText::as_str).collect();
            assert_eq!(unspaced(&joined), unspaced(s.as_str()), "width {width}");
            for l in &lines {
                let single_unit =
                    l.as_str().graphemes(true).count() == 1 || l.segments().count() == 1;
                assert!(
                    display_width(l) <= width || single_unit,
                    "{width}: {:?}",
                    l.as_str()
                );
            }
        }
        let lines = wrap(&s, 6);
        assert!(lines.iter().any(|l| {
            l.segments()
                .any(|seg| matches!(seg, Segment::Marker(m) if m.starts_with('␛')))
        }));
        assert_eq!(wrap(&sanitize_line(""), 5).len(), 1);
    }

    #[test]
    fn wrapping_breaks_at_spaces() {
        let w = |s: &str, width| -> Vec<String> {
            wrap(&sanitize_line(s), width)
                .into_iter()
                .map(SafeText::into_string)
                .collect()
        };
        assert_eq!(
            w("прошу сбросить пароль администратора.", 20),
            ["прошу сбросить", "пароль", "администратора."]
        );
        assert_eq!(
            w("Window too small (now 50×12).", 20),
            ["Window too small", "(now 50×12)."]
        );
        // A space that would overflow the line is where it breaks.
        assert_eq!(w("abcde fgh", 5), ["abcde", "fgh"]);
        // A word longer than the line is cut where it must be.
        assert_eq!(w("ab abcdefgh", 4), ["ab", "abcd", "efgh"]);
        // A space at the start of a line is no place to break: that would leave it empty.
        assert_eq!(w(" 中文中文", 4), [" 中", "文中", "文"]);
        assert_eq!(w("a b c", 80), ["a b c"]);
        assert_eq!(w("a  b", 2), ["a ", "b"]);
    }

    proptest::proptest! {
        #[test]
        fn wrapped_lines_fit_and_keep_the_text(
            s in "[a-z ]{0,12}( |\u{1b}\\[1m|中|👩\u{200D}💻|\t|é)[a-zа-я ]{0,30}",
            width in 1usize..24,
        ) {
            let text = sanitize_line(&s);
            let lines = wrap(&text, width);
            let joined: String = lines.iter().map(SafeText::as_str).collect();
            proptest::prop_assert_eq!(unspaced(&joined), unspaced(text.as_str()));
            for l in &lines {
                let single_unit =
                    l.as_str().graphemes(true).count() == 1 || l.segments().count() == 1;
                proptest::prop_assert!(display_width(l) <= width || single_unit, "{:?}", l.as_str());
            }
        }
    }
}
