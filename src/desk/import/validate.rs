//! One line of an import file: parsed, checked field by field, normalised.
//!
//! Problems name the line's field (`email`, `contacts[1].phone`) and what is expected,
//! never the value: values are personal data and error text may reach a log. serde_json's
//! own messages quote values, so a line is parsed into a `serde_json::Value` and checked
//! here by hand.

use serde_json::{Map, Value};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::domain::account::AccountKind;
use crate::domain::normalize;

pub const ACCOUNT_FIELDS: [&str; 9] = [
    "external_id",
    "kind",
    "name",
    "email",
    "phone",
    "postal_address",
    "tax_id",
    "admin_logins",
    "contacts",
];
pub const CONTACT_FIELDS: [&str; 4] = ["name", "email", "phone", "passphrase"];

const MAX_NAME: usize = 300;
const MAX_ADDRESS: usize = 500;
const MAX_ID: usize = 200;
const MAX_PASSPHRASE: usize = 200;
const MAX_CONTACTS: usize = 20;
const MAX_LOGINS: usize = 100;

/// A problem with one field of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field's path (`email`, `contacts[0].phone`); empty for the line as a whole.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

/// A contact as validated and normalised; the passphrase is still the typed one.
#[derive(Clone, Debug, Default, Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Normalised passphrase before hashing; the argon2id hash after.
    pub passphrase: Option<String>,
}

/// An account line as validated and normalised.
#[derive(Clone, Debug, Default, Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub external_id: Option<String>,
    pub legal_entity: bool,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
    pub tax_id: Option<String>,
    pub admin_logins: Vec<String>,
    pub contacts: Vec<Contact>,
}

impl Record {
    pub fn kind(&self) -> AccountKind {
        if self.legal_entity {
            AccountKind::LegalEntity
        } else {
            AccountKind::Individual
        }
    }
}

struct Checker {
    problems: Vec<Problem>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Levenshtein distance, for "did you mean" on field names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Checker {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Unknown keys: named only when they are a near miss of a known one (a typo); any other
    /// key may itself be a value that slipped into the wrong place.
    fn unknown_keys(&mut self, obj: &Map<String, Value>, known: &[&str], prefix: &str) {
        for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            let near = known
                .iter()
                .find(|f| k.is_ascii() && k.len() <= 32 && distance(k, f) <= 2);
            match near {
                Some(f) => self.problem(prefix.trim_end_matches('.'), format!("unknown field `{k}` (did you mean `{f}`?)")),
                None => self.problem(
                    prefix.trim_end_matches('.'),
                    format!("an unknown field (its name is not shown: it may be personal data); expected only {}", known.join(", ")),
                ),
            }
        }
    }

    fn text(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(path, "missing; it is required");
                }
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    if required {
                        self.problem(path, "is empty; it is required");
                    }
                    None
                } else if t.chars().count() > max {
                    self.problem(path, format!("is longer than {max} characters"));
                    None
                } else if has_control(t) {
                    self.problem(
                        path,
                        "contains a control character (an escape, a line break…); remove it",
                    );
                    None
                } else {
                    Some(t.to_owned())
                }
            }
            Some(other) => {
                self.problem(
                    path,
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn normalised(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        f: fn(&str) -> Result<String, normalize::NormalizeError>,
    ) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => match f(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.problem(path, e.to_string());
                    None
                }
            },
            Some(Value::Number(_)) if key == "tax_id" => {
                self.problem(
                    path,
                    "expected a string: write the INN in quotes (a number loses leading zeros)",
                );
                None
            }
            Some(other) => {
                self.problem(
                    path,
                    format!("expected a string or null, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn external_id(&mut self, obj: &Map<String, Value>) -> Option<String> {
        match obj.get("external_id") {
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            _ => self.text(obj, "external_id", "external_id", MAX_ID, false),
        }
    }

    fn contact(&mut self, v: &Value, i: usize) -> Option<Contact> {
        let path = format!("contacts[{i}]");
        let Value::Object(obj) = v else {
            self.problem(
                &path,
                format!(
                    "expected an object with name, email, phone, passphrase; found {}",
                    type_name(v)
                ),
            );
            return None;
        };
        self.unknown_keys(obj, &CONTACT_FIELDS, &format!("{path}."));
        let before = self.problems.len();
        let name = self.text(obj, "name", &format!("{path}.name"), MAX_NAME, true);
        let email = self.normalised(obj, "email", &format!("{path}.email"), normalize::email);
        let phone = self.normalised(obj, "phone", &format!("{path}.phone"), normalize::phone);
        let passphrase = match obj.get("passphrase") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let p = normalize::passphrase(s);
                if p.is_empty() {
                    self.problem(
                        &format!("{path}.passphrase"),
                        "is empty; leave it out or give one",
                    );
                    None
                } else if p.chars().count() > MAX_PASSPHRASE {
                    self.problem(
                        &format!("{path}.passphrase"),
                        format!("is longer than {MAX_PASSPHRASE} characters"),
                    );
                    None
                } else {
                    Some(p)
                }
            }
            Some(other) => {
                self.problem(
                    &format!("{path}.passphrase"),
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
        };
        let has_channel = ["email", "phone"]
            .iter()
            .any(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
        if !has_channel {
            self.problem(&path, "a designated contact needs an email or a phone");
        }
        if self.problems.len() > before {
            return None;
        }
        Some(Contact {
            name: name.unwrap_or_default(),
            email,
            phone,
            passphrase,
        })
    }
}

/// Checks and normalises one parsed line.
pub fn record(v: &Value) -> Result<Record, Vec<Problem>> {
    let Value::Object(obj) = v else {
        return Err(vec![Problem {
            field: String::new(),
            message: format!(
                "expected a JSON object {{\"kind\": …, \"name\": …}}, found {}",
                type_name(v)
            ),
        }]);
    };
    let mut c = Checker { problems: vec![] };
    c.unknown_keys(obj, &ACCOUNT_FIELDS, "");
    let legal_entity = match obj.get("kind") {
        Some(Value::String(k)) if k == "individual" => Some(false),
        Some(Value::String(k)) if k == "legal_entity" => Some(true),
        None | Some(Value::Null) => {
            c.problem(
                "kind",
                "missing; expected \"individual\" or \"legal_entity\"",
            );
            None
        }
        Some(_) => {
            c.problem("kind", "expected \"individual\" or \"legal_entity\"");
            None
        }
    };
    let external_id = c.external_id(obj);
    let name = c.text(obj, "name", "name", MAX_NAME, true);
    let email = c.normalised(obj, "email", "email", normalize::email);
    let phone = c.normalised(obj, "phone", "phone", normalize::phone);
    let postal_address = c.text(obj, "postal_address", "postal_address", MAX_ADDRESS, false);
    let tax_id = c.normalised(obj, "tax_id", "tax_id", normalize::tax_id);
    let mut admin_logins = vec![];
    match obj.get("admin_logins") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() > MAX_LOGINS => {
            c.problem("admin_logins", format!("has more than {MAX_LOGINS} logins"));
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("admin_logins[{i}]");
                match item {
                    Value::String(_) => {
                        let wrap = Map::from_iter([("v".to_owned(), item.clone())]);
                        if let Some(l) = c.text(&wrap, "v", &path, MAX_ID, true) {
                            admin_logins.push(l);
                        }
                    }
                    other => c.problem(
                        &path,
                        format!("expected a string, found {}", type_name(other)),
                    ),
                }
            }
        }
        Some(other) => c.problem(
            "admin_logins",
            format!("expected a list of strings, found {}", type_name(other)),
        ),
    }
    let mut contacts = vec![];
    match obj.get("contacts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() > MAX_CONTACTS => {
            c.problem("contacts", format!("has more than {MAX_CONTACTS} contacts"));
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(contact) = c.contact(item, i) {
                    contacts.push(contact);
                }
            }
        }
        Some(other) => c.problem(
            "contacts",
            format!("expected a list of objects, found {}", type_name(other)),
        ),
    }
    if !c.problems.is_empty() {
        return Err(std::mem::take(&mut c.problems));
    }
    Ok(Record {
        external_id,
        legal_entity: legal_entity.unwrap_or(false),
        name: name.unwrap_or_default(),
        email,
        phone,
        postal_address,
        tax_id,
        admin_logins,
        contacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(line: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(line).unwrap();
        record(&v)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_good_line_is_normalised() {
        let v: Value = serde_json::from_str(
            r#"{"kind":"legal_entity","name":" ООО «Ромашка» ","email":"Info@Romashka.Example","phone":"8 (916) 123-45-67",
                "tax_id":"7707083893","external_id":1001,"admin_logins":["a","b"],
                "contacts":[{"name":"Анна","phone":"+7 916 000-00-00","passphrase":"  Синий   Трактор "}]}"#,
        )
        .unwrap();
        let r = record(&v).unwrap();
        assert_eq!(r.name, "ООО «Ромашка»");
        assert_eq!(r.email.as_deref(), Some("info@romashka.example"));
        assert_eq!(r.phone.as_deref(), Some("+79161234567"));
        assert_eq!(r.external_id.as_deref(), Some("1001"));
        assert_eq!(r.contacts[0].passphrase.as_deref(), Some("синий трактор"));
    }

    #[test]
    fn problems_name_the_field_and_never_the_value() {
        let p = problems(
            r#"{"kind":"company","name":"X","email":"secret-at-example.com","emial":"y","contacts":[{"name":"Z"}],"tax_id":"7707083894"}"#,
        );
        let text = p.join("\n");
        assert!(text.contains("field `kind`"), "{text}");
        assert!(
            text.contains("field `email`") && text.contains("no @"),
            "{text}"
        );
        assert!(text.contains("`emial` (did you mean `email`?)"), "{text}");
        assert!(
            text.contains("field `contacts[0]`: a designated contact needs an email or a phone"),
            "{text}"
        );
        assert!(
            text.contains("field `tax_id`") && text.contains("check digit"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        let p =
            problems(r#"{"kind":"individual","name":"X","ivan.petrov@example.com":1}"#).join("\n");
        assert!(!p.contains("ivan"), "{p}");
        assert!(
            problems(r#"{"kind":"individual"}"#)
                .join("")
                .contains("field `name`: missing")
        );
        assert!(problems("[1]").join("").contains("JSON object"));
    }
}
