//! Invented people, companies, addresses and contact data for the demo, in Russian and
//! English, from the lists in `assets/demo/`. Contact data uses reserved ranges only (see
//! `assets/demo/README.md`), and tax ids carry valid check digits.

use super::rng::Rng;

fn list(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The demo's name lists, parsed once per generation.
pub struct Lists {
    ru_male: Vec<&'static str>,
    ru_female: Vec<&'static str>,
    ru_patronymics: Vec<(&'static str, &'static str)>,
    ru_last: Vec<&'static str>,
    en_first: Vec<&'static str>,
    en_last: Vec<&'static str>,
    companies_ru: Vec<&'static str>,
    companies_en: Vec<&'static str>,
    cities_ru: Vec<(&'static str, &'static str)>,
    cities_en: Vec<(&'static str, &'static str)>,
    streets_ru: Vec<&'static str>,
    streets_en: Vec<&'static str>,
}

fn pairs(text: &'static str, sep: char) -> Vec<(&'static str, &'static str)> {
    list(text)
        .into_iter()
        .filter_map(|l| l.split_once(sep))
        .map(|(a, b)| (a.trim(), b.trim()))
        .collect()
}

impl Lists {
    pub fn load() -> Lists {
        Lists {
            ru_male: list(include_str!("../../../assets/demo/ru_first_male.txt")),
            ru_female: list(include_str!("../../../assets/demo/ru_first_female.txt")),
            ru_patronymics: pairs(include_str!("../../../assets/demo/ru_patronymics.txt"), ' '),
            ru_last: list(include_str!("../../../assets/demo/ru_last.txt")),
            en_first: list(include_str!("../../../assets/demo/en_first.txt")),
            en_last: list(include_str!("../../../assets/demo/en_last.txt")),
            companies_ru: list(include_str!("../../../assets/demo/companies_ru.txt")),
            companies_en: list(include_str!("../../../assets/demo/companies_en.txt")),
            cities_ru: pairs(include_str!("../../../assets/demo/cities_ru.txt"), '|'),
            cities_en: pairs(include_str!("../../../assets/demo/cities_en.txt"), '|'),
            streets_ru: list(include_str!("../../../assets/demo/streets_ru.txt")),
            streets_en: list(include_str!("../../../assets/demo/streets_en.txt")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

/// An invented person.
#[derive(Clone, Debug)]
pub struct Person {
    pub first: &'static str,
    pub last: String,
    pub patronymic: Option<&'static str>,
}

/// The female form of a Russian surname given in its male form.
fn female_surname(last: &str) -> String {
    if let Some(stem) = last.strip_suffix("ский") {
        format!("{stem}ская")
    } else if let Some(stem) = last.strip_suffix("цкий") {
        format!("{stem}цкая")
    } else if ["ов", "ев", "ёв", "ин", "ын"]
        .iter()
        .any(|s| last.ends_with(s))
    {
        format!("{last}а")
    } else {
        last.to_owned()
    }
}

impl Person {
    pub fn new(rng: &mut Rng, lists: &Lists, lang: Lang) -> Person {
        match lang {
            Lang::Ru => {
                let female = rng.chance(0.5);
                let last = *rng.pick(&lists.ru_last);
                let (pm, pf) = *rng.pick(&lists.ru_patronymics);
                Person {
                    first: if female {
                        rng.one(&lists.ru_female)
                    } else {
                        rng.one(&lists.ru_male)
                    },
                    last: if female {
                        female_surname(last)
                    } else {
                        last.to_owned()
                    },
                    patronymic: Some(if female { pf } else { pm }),
                }
            }
            Lang::En => Person {
                first: rng.one(&lists.en_first),
                last: (*rng.pick(&lists.en_last)).to_owned(),
                patronymic: None,
            },
        }
    }

    /// "Фамилия Имя Отчество" or "First Last".
    pub fn full_name(&self) -> String {
        match self.patronymic {
            Some(p) => format!("{} {} {p}", self.last, self.first),
            None => format!("{} {}", self.first, self.last),
        }
    }

    /// "Имя Фамилия" or "First Last": how a contact is usually written down.
    pub fn short_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// "Фамилия И. О.".
    pub fn initials_name(&self) -> String {
        let initial = |s: &str| {
            s.chars()
                .next()
                .map(|c| format!("{c}."))
                .unwrap_or_default()
        };
        match self.patronymic {
            Some(p) => format!("{} {} {}", self.last, initial(self.first), initial(p)),
            None => format!("{} {}", initial(self.first), self.last),
        }
    }
}

/// A company name with its legal form: `ООО «Ромашка»`, `АО «Вектор»`, `Contoso LLC`.
pub fn company(rng: &mut Rng, lists: &Lists, lang: Lang) -> (String, &'static str) {
    match lang {
        Lang::Ru => {
            let name = *rng.pick(&lists.companies_ru);
            let form = *rng.pick(&["ООО", "ООО", "ООО", "АО", "ПАО", "АНО"]);
            (format!("{form} «{name}»"), name)
        }
        Lang::En => {
            let name = *rng.pick(&lists.companies_en);
            let form = *rng.pick(&["LLC", "Ltd", "Inc.", "LLP", "PLC"]);
            (format!("{name} {form}"), name)
        }
    }
}

const TRANSLIT: &[(char, &str)] = &[
    ('а', "a"),
    ('б', "b"),
    ('в', "v"),
    ('г', "g"),
    ('д', "d"),
    ('е', "e"),
    ('ё', "e"),
    ('ж', "zh"),
    ('з', "z"),
    ('и', "i"),
    ('й', "i"),
    ('к', "k"),
    ('л', "l"),
    ('м', "m"),
    ('н', "n"),
    ('о', "o"),
    ('п', "p"),
    ('р', "r"),
    ('с', "s"),
    ('т', "t"),
    ('у', "u"),
    ('ф', "f"),
    ('х', "kh"),
    ('ц', "ts"),
    ('ч', "ch"),
    ('ш', "sh"),
    ('щ', "shch"),
    ('ъ', "ie"),
    ('ы', "y"),
    ('ь', ""),
    ('э', "e"),
    ('ю', "iu"),
    ('я', "ia"),
];

/// A lower-case ASCII slug: Cyrillic transliterated (ICAO style), other letters dropped
/// to their ASCII base where obvious, everything else removed.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if let Some((_, t)) = TRANSLIT.iter().find(|(k, _)| *k == c) {
            out.push_str(t);
        } else {
            match c {
                'ü' => out.push('u'),
                'í' | 'ì' => out.push('i'),
                'é' | 'è' => out.push('e'),
                'á' | 'à' => out.push('a'),
                ' ' | '-' | '.' | '&' if !out.ends_with('-') && !out.is_empty() => out.push('-'),
                _ => {}
            }
        }
    }
    out.trim_matches('-').to_owned()
}

const PERSONAL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "inbox.test",
    "пример.испытание",
    "почта.испытание",
];

/// A personal address, written as a person might type it (capitals included).
pub fn personal_email(rng: &mut Rng, p: &Person) -> String {
    let first = slug(p.first);
    let last = slug(&p.last);
    let local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{}.{last}", first.chars().next().unwrap_or('x')),
        2 => format!("{last}{}", rng.between(1960, 2005)),
        3 => format!("{first}_{last}{}", rng.below(100)),
        _ => format!("{last}.{first}"),
    };
    let domain = rng.pick(PERSONAL_DOMAINS);
    if rng.chance(0.2) {
        // Typed with capitals: the import and the demo normalise it.
        let mut cs = local.chars();
        let head: String = cs
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .collect();
        format!("{head}{}@{domain}", cs.as_str())
    } else {
        format!("{local}@{domain}")
    }
}

/// A company mailbox: `info@vektor.example`.
pub fn company_email(rng: &mut Rng, base_name: &str, who: Option<&Person>) -> String {
    let host = format!("{}.example", slug(base_name));
    match who {
        Some(p) => format!("{}.{}@{host}", slug(p.first), slug(&p.last)),
        None => format!(
            "{}@{host}",
            rng.pick(&["info", "office", "support", "admin", "it"])
        ),
    }
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0)))
        .collect()
}

/// A phone number formatted as people write it; normalises to E.164.
pub fn phone(rng: &mut Rng, lang: Lang) -> String {
    match lang {
        Lang::Ru => {
            let code = format!("9{}", digits(rng, 2));
            let (a, b, c) = (digits(rng, 3), digits(rng, 2), digits(rng, 2));
            match rng.below(5) {
                0 => format!("+7 {code} {a}-{b}-{c}"),
                1 => format!("8 ({code}) {a}-{b}-{c}"),
                2 => format!("8{code}{a}{b}{c}"),
                3 => format!("+7 (495) {a}-{b}-{c}"),
                _ => format!("+7{code}{a}{b}{c}"),
            }
        }
        Lang::En => {
            if rng.chance(0.5) {
                // Ofcom's drama range: 07700 900000–900999.
                format!("+44 7700 900{}", digits(rng, 3))
            } else {
                // The fictional 555-0100–0199 range.
                format!(
                    "+1 ({}) 555-01{}",
                    rng.pick(&["202", "312", "415", "617"]),
                    digits(rng, 2)
                )
            }
        }
    }
}

/// A postal address.
pub fn address(rng: &mut Rng, lists: &Lists, lang: Lang, office: bool) -> String {
    match lang {
        Lang::Ru => {
            let (city, postcode) = *rng.pick(&lists.cities_ru);
            let street = rng.pick(&lists.streets_ru);
            let house = rng.between(1, 180);
            let unit = rng.between(1, 420);
            if office {
                format!("{postcode}, г. {city}, {street}, д. {house}, офис {unit}")
            } else {
                format!("{postcode}, г. {city}, {street}, д. {house}, кв. {unit}")
            }
        }
        Lang::En => {
            let (city, postcode) = *rng.pick(&lists.cities_en);
            let street = rng.pick(&lists.streets_en);
            let house = rng.between(1, 250);
            if office {
                format!(
                    "Suite {}, {house} {street}, {city} {postcode}",
                    rng.between(1, 40)
                )
            } else {
                format!("{house} {street}, {city} {postcode}")
            }
        }
    }
}

const INN10_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const REGIONS: &[&str] = &[
    "77", "78", "50", "54", "66", "16", "52", "74", "63", "23", "61", "02",
];

fn check_digit(d: &[u32], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(a, w)| a * w).sum::<u32>() % 11 % 10
}

fn to_digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

fn push_digit(s: &mut String, d: u32) {
    s.push(char::from_digit(d, 10).unwrap_or('0'));
}

/// A 10-digit INN of a legal entity, with its check digit.
pub fn inn10(rng: &mut Rng) -> String {
    let mut s = format!("{}{}", rng.pick(REGIONS), digits(rng, 7));
    let d = check_digit(&to_digits(&s), &INN10_WEIGHTS);
    push_digit(&mut s, d);
    s
}

/// A 12-digit INN of an individual or sole proprietor, with both check digits.
pub fn inn12(rng: &mut Rng) -> String {
    let mut s = format!("{}{}", rng.pick(REGIONS), digits(rng, 8));
    let d11 = check_digit(&to_digits(&s), &INN12_WEIGHTS_11);
    push_digit(&mut s, d11);
    let d12 = check_digit(&to_digits(&s), &INN12_WEIGHTS_12);
    push_digit(&mut s, d12);
    s
}

/// A client's source address from the documentation ranges (RFC 5737, RFC 3849).
pub fn client_ip(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("203.0.113.{}", rng.between(1, 254)),
        1 => format!("198.51.100.{}", rng.between(1, 254)),
        2 => format!("192.0.2.{}", rng.between(1, 254)),
        _ => format!("2001:db8::{:x}:{:x}", rng.below(0xffff), rng.below(0xffff)),
    }
}

/// A login inside the hosted software.
pub fn admin_login(rng: &mut Rng, p: &Person) -> String {
    match rng.below(4) {
        0 => format!("{}.{}", slug(p.first), slug(&p.last)),
        1 => slug(&p.last),
        2 => format!("admin{}", rng.between(1, 9)),
        _ => (*rng.pick(&["buh", "it-support", "director", "office-manager"])).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalize;

    #[test]
    fn generated_values_normalise() {
        let lists = Lists::load();
        let mut rng = Rng::new(3);
        for _ in 0..500 {
            assert!(normalize::tax_id(&inn10(&mut rng)).is_ok());
            assert!(normalize::tax_id(&inn12(&mut rng)).is_ok());
            for lang in [Lang::Ru, Lang::En] {
                let p = Person::new(&mut rng, &lists, lang);
                let email = personal_email(&mut rng, &p);
                assert!(normalize::email(&email).is_ok(), "{email}");
                let ph = phone(&mut rng, lang);
                assert!(normalize::phone(&ph).is_ok(), "{ph}");
                let (_, base) = company(&mut rng, &lists, lang);
                let c = company_email(&mut rng, base, None);
                assert!(normalize::email(&c).is_ok(), "{c}");
            }
        }
    }

    #[test]
    fn surnames_take_the_female_form() {
        assert_eq!(female_surname("Иванов"), "Иванова");
        assert_eq!(female_surname("Покровский"), "Покровская");
        assert_eq!(female_surname("Черных"), "Черных");
        assert_eq!(slug("Сергей Щукин"), "sergei-shchukin");
    }
}
