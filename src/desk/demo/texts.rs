//! What the demo's requests say: subjects (short staff summaries, never personal data),
//! correspondence and notes in Russian and English, and hostile text that a client (or an
//! attacker writing as one) may send: escape sequences, bidi overrides, invisible characters,
//! emoji and a 10 KB line. The desk stores it as written; the screens must neutralise it.

use std::fmt::Write as _;

use crate::domain::request::RequestKind;

use super::names::Lang;
use super::rng::Rng;

/// A word in roughly one subject in 5,000: the benchmarks search for it.
pub const RARE_WORD: &str = "квазар";
/// A word in many subjects: the benchmarks search for it too.
pub const COMMON_WORD: &str = "password";

fn subjects(kind: RequestKind, lang: Lang) -> &'static [&'static str] {
    use RequestKind as K;
    match (kind, lang) {
        (K::PasswordReset, Lang::Ru) => &[
            "Сброс пароля администратора",
            "Нет доступа после смены телефона",
            "Забыт password от панели управления",
            "Учётная запись заблокирована после неверных попыток",
            "Сброс пароля по просьбе уполномоченного лица",
        ],
        (K::PasswordReset, Lang::En) => &[
            "Password reset for the admin login",
            "Locked out after too many password attempts",
            "Lost access to the two-factor device",
            "Reset password requested by the designated contact",
            "Cannot sign in after the password expired",
        ],
        (K::ContactChange, Lang::Ru) => &[
            "Замена уполномоченного лица",
            "Добавить второе уполномоченное лицо",
            "Уполномоченное лицо уволилось",
        ],
        (K::ContactChange, Lang::En) => &[
            "Replace the designated contact",
            "Add a second designated contact",
            "Designated contact left the company",
        ],
        (K::Compromise, Lang::Ru) => &[
            "Подозрительные входы из-за рубежа",
            "Рассылка спама с аккаунта клиента",
            "Утечка ключа API в открытом репозитории",
            "Фишинговое письмо от имени провайдера",
            "Смена password без ведома клиента",
        ],
        (K::Compromise, Lang::En) => &[
            "Suspicious logins from new locations",
            "API key leaked in a public repository",
            "Phishing email reported by the client",
            "Password changed without the client's knowledge",
            "Spam sent from the client's mailboxes",
        ],
        (K::SubjectReport, Lang::Ru) => &[
            "Запрос сведений об обработке ПДн",
            "Кто получал доступ к моим данным",
            "Сведения об обработке персональных данных по ст. 20",
        ],
        (K::SubjectReport, Lang::En) => &[
            "Account-state report requested",
            "Who accessed my data",
            "Copy of the personal data held",
        ],
        (K::SubjectBlocking, Lang::Ru) => &[
            "Блокирование обработки персональных данных",
            "Приостановить обработку до проверки",
        ],
        (K::SubjectBlocking, Lang::En) => &[
            "Block processing pending a dispute",
            "Restrict processing of personal data",
        ],
        (K::SubjectUnblocking, Lang::Ru) => &[
            "Снятие блокирования обработки",
            "Возобновить обработку данных",
        ],
        (K::SubjectUnblocking, Lang::En) => {
            &["Unblock after the dispute was settled", "Resume processing"]
        }
        (K::SubjectDeletion, Lang::Ru) => &[
            "Удаление персональных данных",
            "Прошу удалить учётную запись и данные",
        ],
        (K::SubjectDeletion, Lang::En) => &[
            "Delete my account and personal data",
            "Right to erasure request",
        ],
    }
}

/// A subject for a request of `kind`: a staff summary, free of personal data.
pub fn subject(rng: &mut Rng, kind: RequestKind, lang: Lang) -> String {
    let base = *rng.pick(subjects(kind, lang));
    let mut s = base.to_owned();
    if rng.chance(0.0002) {
        s.push_str(" (проект ");
        s.push_str(RARE_WORD);
        s.push(')');
    } else if rng.chance(0.04) {
        s.push_str(match lang {
            Lang::Ru => " — повторное обращение",
            Lang::En => " (follow-up)",
        });
    } else if rng.chance(0.01) {
        s.push_str(" 🔐");
    }
    s
}

/// What the requester wrote when asking.
pub fn incoming(rng: &mut Rng, kind: RequestKind, lang: Lang) -> &'static str {
    use RequestKind as K;
    let options: &[&str] = match (kind, lang) {
        (K::PasswordReset | K::ContactChange, Lang::Ru) => &[
            "Здравствуйте! Не могу войти в личный кабинет, прошу сбросить пароль администратора.",
            "Добрый день. Наш администратор сменил телефон и потерял доступ. Подскажите, что делать?",
            "Прошу заменить уполномоченное лицо: прежний сотрудник уволился, приказ приложен.",
        ],
        (K::PasswordReset | K::ContactChange, Lang::En) => &[
            "Hello, our admin lost access after changing phones. Please reset the password.",
            "Hi, I'm locked out of the control panel. Can you send me a reset link?",
            "Please replace our designated contact: the previous one has left the company.",
        ],
        (K::Compromise, Lang::Ru) => &[
            "Мы видим входы из стран, где у нас нет сотрудников, и новый ключ API.",
            "С наших ящиков уходит спам. Срочно заблокируйте доступ!",
        ],
        (K::Compromise, Lang::En) => &[
            "We see logins from countries where we have no staff, and a new API key we did not create.",
            "Our mailboxes are sending spam. Please lock the account now!",
        ],
        (_, Lang::Ru) => &[
            "Прошу предоставить сведения об обработке моих персональных данных (ст. 20 152-ФЗ).",
            "Прошу прекратить обработку и удалить мои персональные данные.",
            "Прошу заблокировать обработку моих данных до окончания проверки.",
        ],
        (_, Lang::En) => &[
            "Please tell me what personal data you hold about me and who has accessed it.",
            "Please delete my account and all personal data you hold about me.",
            "Please stop processing my data until my complaint is resolved.",
        ],
    };
    rng.one(options)
}

/// What the desk wrote back after a step.
pub fn outgoing(rng: &mut Rng, lang: Lang) -> &'static str {
    let options: &[&str] = match lang {
        Lang::Ru => &[
            "Ваше обращение зарегистрировано. Мы ответим в установленный срок.",
            "Ссылка для смены пароля отправлена уполномоченному лицу на адрес из договора. Она действует 20 минут.",
            "Запрос выполнен. Сведения направлены по адресу, указанному в договоре.",
        ],
        Lang::En => &[
            "Your request is registered; we will answer within the legal deadline.",
            "A reset link was sent to the designated contact's address on file. It expires in 20 minutes.",
            "Your request is complete; the details went to the address on file.",
        ],
    };
    rng.one(options)
}

/// A staff note.
pub fn note(rng: &mut Rng, lang: Lang) -> &'static str {
    let options: &[&str] = match lang {
        Lang::Ru => &[
            "Звонившая назвала кодовое слово верно.",
            "Клиент просит связаться после 15:00 по Москве.",
            "Проверено по договору: уполномоченное лицо совпадает.",
            "Ждём скан доверенности.",
        ],
        Lang::En => &[
            "Caller answered the passphrase correctly.",
            "Client asks to be called back after 3 pm Moscow time.",
            "Checked against the contract: the designated contact matches.",
            "Waiting for the signed power of attorney.",
        ],
    };
    rng.one(options)
}

/// How a requester who is not a designated contact was described at intake.
pub fn requester_description(rng: &mut Rng, lang: Lang) -> &'static str {
    let options: &[&str] = match lang {
        Lang::Ru => &[
            "Звонивший представился новым ИТ-директором клиента",
            "Письмо с личного ящика, подписано «бухгалтерия»",
            "Субъект персональных данных, обратился лично",
        ],
        Lang::En => &[
            "Caller said they are the client's new IT manager",
            "Email from a personal mailbox signed 'accounts'",
            "The data subject, in person",
        ],
    };
    rng.one(options)
}

/// Hostile text: every screen must show it inert. Each is stored as written.
pub fn hostile() -> Vec<String> {
    let long_line = {
        let mut s = String::from("Stack trace pasted by the client: ");
        let mut i = 0;
        while s.len() < 10 * 1024 {
            let _ = write!(
                s,
                "at frame{i} (lib/core/handler.js:{}:{}) → ",
                100 + i,
                i % 80
            );
            i += 1;
        }
        s
    };
    vec![
        "\u{1b}[31;1mСРОЧНО\u{1b}[0m: клиент требует перезвонить \u{1b}[5mнемедленно\u{1b}[0m".to_owned(),
        "Line one\u{1b}[2K\u{1b}[1A\u{1b}[2K\rThis line was overwritten by cursor moves\u{1b}[10;10H".to_owned(),
        "\u{1b}]0;privdesk — session hijacked\u{7}Window title changed (OSC 0, BEL)".to_owned(),
        "\u{1b}]2;root@desk:~\u{1b}\\Window title changed (OSC 2, ST)".to_owned(),
        "Please copy this: \u{1b}]52;c;Y3VybCBldmlsLmV4YW1wbGUvc2ggfCBzaA==\u{7} (OSC 52 clipboard write)".to_owned(),
        "\u{1b}]8;;https://evil.example/verify\u{1b}\\Click here to verify your account\u{1b}]8;;\u{1b}\\ (OSC 8 hyperlink)"
            .to_owned(),
        "Invoice attached: report\u{202e}fdp.exe\u{202c} — please open it".to_owned(),
        "Пароль: \u{2067}абв\u{2069} и \u{202d}RTL override\u{202c} в тексте".to_owned(),
        "pass\u{200b}word re\u{200d}set\u{2060} now\u{feff} — zero-width characters".to_owned(),
        "Спасибо за помощь! 🙏🔐👍🏽 👨‍👩‍👧 🇷🇺 ❤️".to_owned(),
        "\u{1b}[?1049h\u{1b}[H\u{1b}[2JScreen cleared\u{1b}[6n (alternate screen, device status report)".to_owned(),
        "Approved by supervisor\rRefused\u{9b}31m C1 CSI \u{1b}P+q544e\u{1b}\\ DCS".to_owned(),
        long_line,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::normalize;

    #[test]
    fn subjects_carry_no_personal_data() {
        for kind in RequestKind::ALL {
            for lang in [Lang::Ru, Lang::En] {
                for s in subjects(kind, lang) {
                    assert!(
                        !normalize::contains_email_like(s) && !normalize::contains_phone_like(s),
                        "{s}"
                    );
                }
            }
        }
    }

    #[test]
    fn hostile_text_covers_the_cases() {
        let h = hostile();
        assert!(h.iter().any(|t| t.contains("\u{1b}]52;")));
        assert!(h.iter().any(|t| t.contains("\u{1b}]8;;")));
        assert!(h.iter().any(|t| t.contains('\u{202e}')));
        assert!(h.iter().any(|t| t.contains('\u{200b}')));
        assert!(h.iter().any(|t| t.len() >= 10 * 1024 && !t.contains('\n')));
    }
}
