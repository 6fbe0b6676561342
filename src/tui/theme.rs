//! One place for colours and emphasis. With `NO_COLOR` set, only modifiers (bold, reverse,
//! underline) remain, so nothing depends on colour alone: urgency also has a symbol.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// `NO_COLOR` (any value) turns colour off (https://no-color.org).
    pub fn from_env(no_color: Option<&str>) -> Theme {
        Theme {
            color: no_color.is_none_or(str::is_empty),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn base(self) -> Style {
        Style::new()
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn tab(self) -> Style {
        self.fg(Color::Gray)
    }

    pub fn tab_active(self) -> Style {
        self.fg(Color::Cyan)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn overdue(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn due_soon(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn muted(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Gray)
    }

    pub fn masked(self) -> Style {
        self.fg(Color::Gray).add_modifier(Modifier::ITALIC)
    }

    /// A placeholder the sanitizer put in client text (an escape sequence, a bidi control).
    pub fn marker(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::DIM)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn banner(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn flag(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_keeps_only_modifiers() {
        let t = Theme::from_env(Some("1"));
        assert_eq!(t.overdue().fg, None);
        assert!(t.overdue().add_modifier.contains(Modifier::BOLD));
        assert_eq!(t.banner().bg, None);
        let c = Theme::from_env(None);
        assert_eq!(c.overdue().fg, Some(Color::Red));
        assert!(Theme::from_env(Some("")).color);
    }
}
