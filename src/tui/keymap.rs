//! Keys become actions by a pure function of the mode and the key (STYLE.md). The default
//! bindings are one table; the config file may rebind any action (`[keys] down = ["j"]`);
//! the help overlay and the footer are generated from the same table, so they cannot go
//! stale.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    Back,
    Open,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    /// The queue tab with this number (1-based).
    Tab(u8),
    NextTab,
    PrevTab,
    Take,
    Release,
    Assign,
    Note,
    Events,
    FilterState,
    ToggleMine,
    ToggleUnassigned,
    ToggleOverdue,
    ClearFilters,
    Search,
    FindAccount,
    Refresh,
    Confirm,
    Cancel,
    Submit,
    NextField,
    Disable,
    Enable,
    Unlock,
    Reveal,
    Check,
    Notices,
    AuditLog,
    AccessReport,
    AuditFilter,
}

impl Action {
    /// The name used in the config file's `[keys]` table.
    pub fn name(self) -> String {
        match self {
            Action::Tab(n) => format!("tab-{n}"),
            other => {
                let s = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in s.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        out.push('-');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    /// The catalog key describing the action in help.
    pub fn help_key(self) -> String {
        match self {
            Action::Tab(_) => "key-tab".to_owned(),
            other => format!("key-{}", other.name()),
        }
    }
}

/// The situations keys are read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Keys that work everywhere outside text input.
    Global,
    Queue,
    Detail,
    Staff,
    Audit,
    /// A list to choose from (events, colleagues, states).
    Choice,
    Confirm,
    /// A text field (login, note, search): characters go to the field first.
    Input,
    Help,
}

impl Mode {
    pub const ALL: [Mode; 9] = [
        Mode::Global,
        Mode::Queue,
        Mode::Detail,
        Mode::Staff,
        Mode::Audit,
        Mode::Choice,
        Mode::Confirm,
        Mode::Input,
        Mode::Help,
    ];

    /// A screen staff work in, as opposed to a dialog (choice, confirmation, text input,
    /// help) whose keys stay the conventional ones.
    pub fn is_screen(self) -> bool {
        matches!(
            self,
            Mode::Global | Mode::Queue | Mode::Detail | Mode::Staff | Mode::Audit
        )
    }

    /// Where the keys of this mode work, for messages and `privdesk keymap`.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Global => "every screen",
            Mode::Queue => "the queues",
            Mode::Detail => "a request",
            Mode::Staff => "the staff list",
            Mode::Audit => "the audit log",
            Mode::Choice => "a list to choose from",
            Mode::Confirm => "a confirmation",
            Mode::Input => "a text field",
            Mode::Help => "the help",
        }
    }
}

/// A key as written in the config file: `j`, `ctrl-d`, `shift-tab`, `enter`, `f1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeySpec {
    pub const fn plain(code: KeyCode) -> KeySpec {
        KeySpec {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub const fn ch(c: char) -> KeySpec {
        KeySpec::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> KeySpec {
        KeySpec {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let mut mods = ev.modifiers;
        // Terminals report Shift with upper-case letters and symbols; the character says it.
        if let KeyCode::Char(_) = ev.code {
            mods.remove(KeyModifiers::SHIFT);
        }
        let code = match (ev.code, self.code) {
            (KeyCode::BackTab, KeyCode::BackTab) => return true,
            (c, _) => c,
        };
        code == self.code && mods == self.mods
    }

    pub fn parse(s: &str) -> Result<KeySpec, String> {
        let s = s.trim();
        let (mods, key) = match s
            .rsplit_once('-')
            .filter(|(m, k)| !m.is_empty() && !k.is_empty())
        {
            Some((m, k)) => {
                let mut mods = KeyModifiers::NONE;
                for part in m.split('-') {
                    mods |= match part.to_ascii_lowercase().as_str() {
                        "ctrl" | "c" => KeyModifiers::CONTROL,
                        "alt" | "a" | "m" => KeyModifiers::ALT,
                        "shift" | "s" => KeyModifiers::SHIFT,
                        other => {
                            return Err(format!(
                                "unknown modifier {other:?} in {s:?}: use ctrl, alt or shift"
                            ));
                        }
                    };
                }
                (mods, k)
            }
            None => (KeyModifiers::NONE, s),
        };
        let code = match key.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                return Ok(KeySpec::plain(KeyCode::BackTab));
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ if key.chars().count() == 1 => KeyCode::Char(key.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "unknown key {key:?} in {s:?}: write e.g. j, ctrl-d, enter, pgdn, f1"
                ));
            }
        };
        Ok(KeySpec { code, mods })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Backspace => f.write_str("Backspace"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub mode: Mode,
    pub keys: Vec<KeySpec>,
    pub action: Action,
    /// Shown in the footer of its mode.
    pub footer: bool,
}

impl Binding {
    /// The catalog key describing the binding in help and the footer: Enter in a text field
    /// finishes the text (saves a note, runs a search) rather than selecting.
    pub fn help_key(&self) -> String {
        match (self.mode, self.action) {
            (Mode::Input, Action::Submit) => "key-submit-input".to_owned(),
            _ => self.action.help_key(),
        }
    }
}

fn b(mode: Mode, keys: &[KeySpec], action: Action, footer: bool) -> Binding {
    Binding {
        mode,
        keys: keys.to_vec(),
        action,
        footer,
    }
}

/// The default bindings.
pub fn defaults() -> Vec<Binding> {
    use Action as A;
    use KeyCode as K;
    use Mode as M;
    let p = KeySpec::plain;
    let c = KeySpec::ch;
    let mut v = vec![
        b(M::Global, &[c('?'), p(K::F(1))], A::Help, true),
        b(M::Global, &[c('q')], A::Quit, true),
        b(M::Global, &[p(K::Up), c('k')], A::Up, false),
        b(M::Global, &[p(K::Down), c('j')], A::Down, false),
        b(
            M::Global,
            &[p(K::PageUp), KeySpec::ctrl('u')],
            A::PageUp,
            false,
        ),
        b(
            M::Global,
            &[p(K::PageDown), KeySpec::ctrl('d')],
            A::PageDown,
            false,
        ),
        b(M::Global, &[p(K::Home), c('g')], A::Top, false),
        b(M::Global, &[p(K::End), c('G')], A::Bottom, false),
        b(M::Global, &[KeySpec::ctrl('r')], A::Refresh, false),
        b(M::Queue, &[p(K::Enter)], A::Open, true),
        b(M::Queue, &[p(K::Tab), p(K::Right)], A::NextTab, false),
        b(M::Queue, &[p(K::BackTab), p(K::Left)], A::PrevTab, false),
        b(M::Queue, &[c('/')], A::Search, true),
        b(M::Queue, &[c('a')], A::FindAccount, true),
        b(M::Queue, &[c('f')], A::FilterState, true),
        b(M::Queue, &[c('m')], A::ToggleMine, true),
        b(M::Queue, &[c('u')], A::ToggleUnassigned, false),
        b(M::Queue, &[c('o')], A::ToggleOverdue, false),
        b(M::Queue, &[c('c')], A::ClearFilters, false),
        b(M::Queue, &[c('t')], A::Take, false),
        b(M::Queue, &[p(K::Esc)], A::Back, false),
        b(M::Queue, &[c('!')], A::Notices, false),
        b(M::Queue, &[c('L')], A::AuditLog, false),
        b(M::Detail, &[p(K::Esc), p(K::Backspace)], A::Back, true),
        b(M::Detail, &[c('e')], A::Events, true),
        b(M::Detail, &[c('n')], A::Note, true),
        b(M::Detail, &[c('v')], A::Reveal, true),
        b(M::Detail, &[c('x')], A::Check, true),
        b(M::Detail, &[c('t')], A::Take, true),
        b(M::Detail, &[c('s')], A::Assign, true),
        b(M::Detail, &[c('r')], A::Release, true),
        b(M::Detail, &[p(K::Tab)], A::NextPane, true),
        b(M::Detail, &[p(K::BackTab)], A::PrevPane, false),
        b(M::Staff, &[c('d')], A::Disable, true),
        b(M::Staff, &[c('E')], A::Enable, true),
        b(M::Staff, &[c('U')], A::Unlock, true),
        b(M::Audit, &[c('f')], A::AuditFilter, true),
        b(M::Audit, &[c('a')], A::AccessReport, true),
        b(M::Audit, &[p(K::Enter)], A::Open, true),
        b(M::Audit, &[p(K::Esc)], A::Back, true),
        b(M::Choice, &[p(K::Enter)], A::Submit, true),
        b(M::Choice, &[p(K::Esc)], A::Cancel, true),
        b(M::Choice, &[p(K::Up), c('k')], A::Up, false),
        b(M::Choice, &[p(K::Down), c('j')], A::Down, false),
        b(M::Confirm, &[c('y')], A::Confirm, true),
        b(M::Confirm, &[p(K::Enter)], A::Submit, false),
        b(M::Confirm, &[c('n'), p(K::Esc)], A::Cancel, true),
        b(M::Input, &[p(K::Enter)], A::Submit, true),
        b(M::Input, &[p(K::Esc)], A::Cancel, true),
        b(M::Input, &[p(K::Tab), p(K::BackTab)], A::NextField, false),
        b(
            M::Help,
            &[p(K::Esc), c('?'), c('q'), p(K::Enter)],
            A::Back,
            true,
        ),
        b(M::Help, &[p(K::Up), c('k')], A::Up, false),
        b(M::Help, &[p(K::Down), c('j')], A::Down, false),
    ];
    for n in 1..=3_u8 {
        v.push(b(M::Queue, &[c(char::from(b'0' + n))], A::Tab(n), false));
    }
    v
}

#[derive(Clone, Debug)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            bindings: defaults(),
        }
    }
}

impl KeyMap {
    /// The defaults with the config file's rebindings applied. Errors name the action or key.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (name, keys) in overrides {
            let specs = keys
                .iter()
                .map(|k| KeySpec::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            if specs.is_empty() {
                return Err(format!("[keys] {name}: give at least one key"));
            }
            // On the screens where the action has keys; dialogs keep their conventional
            // keys (Esc still closes the help when `back` is rebound).
            let on_screens = map
                .bindings
                .iter()
                .any(|b| b.action.name() == *name && b.mode.is_screen());
            let mut found = false;
            for binding in map
                .bindings
                .iter_mut()
                .filter(|b| b.action.name() == *name && (b.mode.is_screen() || !on_screens))
            {
                binding.keys.clone_from(&specs);
                found = true;
            }
            if !found {
                let names: Vec<String> = {
                    let mut n: Vec<String> = map.bindings.iter().map(|b| b.action.name()).collect();
                    n.sort();
                    n.dedup();
                    n
                };
                return Err(format!(
                    "[keys] {name}: no such action; actions are {}",
                    names.join(", ")
                ));
            }
        }
        map.check_conflicts(|action| overrides.contains_key(&action.name()))?;
        Ok(map)
    }

    /// Refuses a key that would ask for two actions in one mode (its own bindings, and on
    /// screens the global ones too), when `rebound` says one of them was rebound: the
    /// other would silently win.
    fn check_conflicts(&self, rebound: impl Fn(Action) -> bool) -> Result<(), String> {
        for mode in Mode::ALL {
            let mut seen: Vec<(&KeySpec, &Binding)> = vec![];
            let active = self.bindings.iter().filter(|b| {
                b.mode == mode
                    || (b.mode == Mode::Global && mode.is_screen() && mode != Mode::Global)
            });
            for binding in active {
                for key in &binding.keys {
                    if let Some((_, other)) = seen
                        .iter()
                        .find(|(k, o)| *k == key && o.action != binding.action)
                        && (rebound(binding.action) || rebound(other.action))
                    {
                        let (mine, theirs) = if rebound(binding.action) {
                            (binding.action, other.action)
                        } else {
                            (other.action, binding.action)
                        };
                        return Err(format!(
                            "[keys] {}: {key} is already {} in {}; choose another key or rebind {} too",
                            mine.name(),
                            theirs.name(),
                            mode.describe(),
                            theirs.name(),
                        ));
                    }
                    seen.push((key, binding));
                }
            }
        }
        Ok(())
    }

    /// Every binding, for `privdesk keymap`.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action `key` asks for in `mode` (then in the global bindings, except in text
    /// input and choices where global letters would be typed or chosen).
    pub fn resolve(&self, mode: Mode, key: &KeyEvent) -> Option<Action> {
        let find = |m: Mode| {
            self.bindings
                .iter()
                .find(|b| b.mode == m && b.keys.iter().any(|k| k.matches(key)))
                .map(|b| b.action)
        };
        find(mode).or_else(|| match mode {
            Mode::Queue | Mode::Detail | Mode::Staff | Mode::Audit => find(Mode::Global),
            Mode::Global | Mode::Choice | Mode::Confirm | Mode::Input | Mode::Help => None,
        })
    }

    /// What the help overlay lists for `mode`: its own bindings, then the global ones.
    pub fn help(&self, mode: Mode) -> Vec<&Binding> {
        let own = self.bindings.iter().filter(|b| b.mode == mode);
        let global = self.bindings.iter().filter(|b| b.mode == Mode::Global);
        match mode {
            Mode::Queue | Mode::Detail | Mode::Staff | Mode::Audit => own.chain(global).collect(),
            _ => own.collect(),
        }
    }

    /// The footer's bindings for `mode`.
    pub fn footer(&self, mode: Mode) -> Vec<&Binding> {
        self.help(mode).into_iter().filter(|b| b.footer).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn vim_and_arrow_keys_move() {
        let m = KeyMap::default();
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Down)),
            Some(Action::Down)
        );
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Char('k'))),
            Some(Action::Up)
        );
        assert_eq!(
            m.resolve(Mode::Detail, &key(KeyCode::Char('g'))),
            Some(Action::Top)
        );
        assert_eq!(
            m.resolve(
                Mode::Queue,
                &KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            m.resolve(
                Mode::Queue,
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
            ),
            Some(Action::PageDown)
        );
        assert_eq!(
            m.resolve(
                Mode::Queue,
                &KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)
            ),
            Some(Action::PageUp)
        );
    }

    #[test]
    fn modes_decide() {
        let m = KeyMap::default();
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Enter)),
            Some(Action::Open)
        );
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Char('2'))),
            Some(Action::Tab(2))
        );
        assert_eq!(
            m.resolve(Mode::Detail, &key(KeyCode::Esc)),
            Some(Action::Back)
        );
        assert_eq!(
            m.resolve(Mode::Detail, &key(KeyCode::Tab)),
            Some(Action::NextPane)
        );
        assert_eq!(
            m.resolve(Mode::Detail, &key(KeyCode::Char('n'))),
            Some(Action::Note)
        );
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        // In text input, letters are typed, not actions.
        assert_eq!(m.resolve(Mode::Input, &key(KeyCode::Char('q'))), None);
        assert_eq!(
            m.resolve(Mode::Input, &key(KeyCode::Enter)),
            Some(Action::Submit)
        );
        assert_eq!(
            m.resolve(Mode::Confirm, &key(KeyCode::Char('y'))),
            Some(Action::Confirm)
        );
        assert_eq!(m.resolve(Mode::Confirm, &key(KeyCode::Char('q'))), None);
        assert_eq!(m.resolve(Mode::Queue, &key(KeyCode::Char('x'))), None);
        assert_eq!(
            m.resolve(Mode::Queue, &key(KeyCode::Char('?'))),
            Some(Action::Help)
        );
    }

    #[test]
    fn rebinding_from_config() {
        let mut o = BTreeMap::new();
        o.insert(
            "down".to_owned(),
            vec!["ctrl-n".to_owned(), "down".to_owned()],
        );
        let m = KeyMap::with_overrides(&o).unwrap();
        assert_eq!(
            m.resolve(
                Mode::Queue,
                &KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)
            ),
            Some(Action::Down)
        );
        assert_eq!(m.resolve(Mode::Queue, &key(KeyCode::Char('j'))), None);
        o.insert("fly".to_owned(), vec!["x".to_owned()]);
        assert!(
            KeyMap::with_overrides(&o)
                .unwrap_err()
                .contains("no such action")
        );
        let mut bad = BTreeMap::new();
        bad.insert("down".to_owned(), vec!["hyper-x".to_owned()]);
        assert!(
            KeyMap::with_overrides(&bad)
                .unwrap_err()
                .contains("unknown modifier")
        );
    }

    #[test]
    fn the_defaults_have_no_conflicts() {
        KeyMap::default().check_conflicts(|_| true).unwrap();
    }

    #[test]
    fn a_rebinding_keeps_dialogs_and_refuses_a_taken_key() {
        let mut o = BTreeMap::new();
        o.insert("back".to_owned(), vec!["h".to_owned()]);
        let m = KeyMap::with_overrides(&o).unwrap();
        assert_eq!(
            m.resolve(Mode::Detail, &key(KeyCode::Char('h'))),
            Some(Action::Back)
        );
        assert_eq!(m.resolve(Mode::Detail, &key(KeyCode::Esc)), None);
        // The help still closes with Esc.
        assert_eq!(
            m.resolve(Mode::Help, &key(KeyCode::Esc)),
            Some(Action::Back)
        );
        // `j` is down on every screen: taking it for `take` is refused, naming both.
        let mut o = BTreeMap::new();
        o.insert("take".to_owned(), vec!["j".to_owned()]);
        let err = KeyMap::with_overrides(&o).unwrap_err();
        assert!(
            err.contains("take") && err.contains("down") && err.contains("the queues"),
            "{err}"
        );
        // Moving `down` off `j` first makes it free.
        o.insert("down".to_owned(), vec!["ctrl-n".to_owned()]);
        KeyMap::with_overrides(&o).unwrap();
    }

    #[test]
    fn help_comes_from_the_bindings() {
        let m = KeyMap::default();
        let help = m.help(Mode::Detail);
        assert!(help.iter().any(|b| b.action == Action::Note));
        assert!(help.iter().any(|b| b.action == Action::Help));
        assert!(m.footer(Mode::Queue).iter().all(|b| b.footer));
        assert_eq!(KeySpec::parse("ctrl-d").unwrap().to_string(), "Ctrl-d");
        assert_eq!(
            KeySpec::parse("shift-tab").unwrap(),
            KeySpec::plain(KeyCode::BackTab)
        );
        assert_eq!(Action::ToggleMine.name(), "toggle-mine");
        assert_eq!(Action::Tab(2).name(), "tab-2");
    }
}
