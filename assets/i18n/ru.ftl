# privdesk — русский каталог. У каждого сообщения есть пара в en.ftl (это проверяет тест).

months-short = янв. февр. марта апр. мая июня июля авг. сент. окт. нояб. дек.
span-days = { $n ->
        [one] { $n } день
        [few] { $n } дня
       *[many] { $n } дней
    }
span-hours = { $n } ч
span-minutes = { $n } мин
span-seconds = { $n } с
deadline-in = через { $span }
deadline-overdue = просрочено на { $span }

too-small = Окно слишком маленькое: privdesk нужно не меньше { $w }×{ $h } (сейчас { $cw }×{ $ch }).
press-enter-to-close = Нажмите Enter, чтобы закрыть.
loading = Загрузка…
saving = Сохранение…
task-failed = Внутри деска что-то пошло не так; ничего не изменено. Попробуйте ещё раз или сообщите администратору.
banner-db-down = База данных недоступна — повторяем попытки. Всё, что вы ввели, сохранится.
session-ended = Ваш сеанс завершён: учётная запись отключена или изменена. Здесь больше ничего сделать нельзя.

login-title = Вход в службу поддержки
login-login = Логин
login-password = Пароль
login-password-typed = (ввод скрыт)
login-checking = Проверка…
login-hint = Enter: далее / войти · Tab: другое поле · Esc: выход
login-wrong = Неверный логин или пароль.
login-disabled = Эта учётная запись отключена. Обратитесь к администратору.
login-locked = Слишком много неудачных попыток: вход заблокирован до { $until }. Попробуйте позже или попросите администратора снять блокировку.
login-demo-only = Демо-логины работают только в демо-базе.

lock-title = Экран заблокирован
lock-text = Экран заблокирован после бездействия. Введите пароль { $login }, чтобы продолжить; работа сохранена.

role-agent = поддержка
role-oncall = дежурный
role-supervisor = руководитель
role-auditor = аудитор
role-admin = администратор

screen-staff = Сотрудники
screen-audit = Журнал аудита
no-queues = Ваша роль не работает ни с одной очередью.

queue-reset = Сбросы
queue-compromise = Компрометация
queue-subject = Запросы субъектов
queue-reset-short = Сбросы
queue-compromise-short = Компром.
queue-subject-short = Субъекты
tab-counts = ({ $open })
tab-counts-overdue = ({ $open }, просроч. { $overdue })
# Узкое окно: `!!` отмечает просроченные запросы и в очередях.
tab-counts-overdue-short = ({ $open }, !!{ $overdue })
position = — { $n } из { $total }
queue-empty = Здесь пусто. Нажмите c, чтобы снять фильтры.

kind-password_reset = сброс
kind-contact_change = контакты
kind-compromise = компрометация
kind-subject_report = отчёт
kind-subject_blocking = блокировка
kind-subject_unblocking = разблокировка
kind-subject_deletion = удаление
kind-long-password_reset = Сброс пароля
kind-long-contact_change = Смена доверенных лиц
kind-long-compromise = Сообщение о компрометации
kind-long-subject_report = Сведения о состоянии аккаунта
kind-long-subject_blocking = Блокирование персональных данных
kind-long-subject_unblocking = Разблокирование персональных данных
kind-long-subject_deletion = Удаление персональных данных

state-received = получен
state-verifying = проверка
state-verified = проверен
state-link_sent = ссылка отправлена
state-done = выполнен
state-refused = отказ
state-expired = истёк
state-awaiting_approval = ждёт одобрения
state-approved = одобрен
state-applied = применён
state-reported = поступил
state-triaged = оценён
state-contained = локализован
state-verifying_client = проверка клиента
state-restored = доступ восстановлен
state-closed = закрыт
state-closed_unfounded = закрыт, необоснован
state-identity_verified = личность подтверждена
state-prepared = подготовлен
state-executed = исполнен
state-client_notified = клиент уведомлён
state-refusal_proposed = предложен отказ
state-refusal_approved = отказ одобрен

event-begin_verification = Начать проверку заявителя
event-verify = Заявитель проверен
event-send_link = Отправить ссылку на почту доверенного лица
event-redeem = Ссылка использована
event-expire = Ссылка истекла
event-refuse = Отказать…
event-submit_for_approval = Передать на одобрение
event-approve = Одобрить
event-send_back = Вернуть на доработку
event-apply = Применить изменение
event-notify_contacts = Доверенные лица уведомлены
event-triage = Оценить…
event-contain = Локализован (блокировка, сеансы завершены)
event-begin_client_verification = Начать проверку клиента
event-restore = Доступ восстановлен
event-close = Закрыть
event-close_unfounded = Закрыть как необоснованное
event-verify_identity = Личность подтверждена
event-prepare = Подготовлен (объём, законные основания хранения)
event-execute = Исполнить
event-notify_client = Клиент уведомлён
event-propose_refusal = Предложить отказ…

severity-1 = Критичность 1 (1 час)
severity-2 = Критичность 2 (4 часа)
severity-3 = Критичность 3 (1 рабочий день)
severity-4 = Критичность 4 (3 рабочих дня)
leak-yes = утечка персональных данных
leak-no = утечки персональных данных нет

reason-not_designated_contact = Не доверенное лицо (§4)
reason-contact_has_no_email = У доверенного лица нет почты для ссылки
reason-employee_login = Логин сотрудника клиента (§5: рекомендуйте два админ-логина)
reason-verification_failed = Заявителя не удалось проверить
reason-withdrawn = Заявитель отозвал запрос

ground-accounting_retention = Бухгалтерский учёт: документы хранятся до окончания срока
ground-contract_performance = Нужно для исполнения договора
ground-authority_order = Законное требование уполномоченного органа (§3)
ground-identity_not_confirmed = Личность заявителя не подтверждена
ground-agreed_ground = Иное основание, согласованное сторонами (§14)

col-kind = вид
col-account = аккаунт
col-state = состояние
col-assignee = исполнитель
col-due = срок
col-login = логин
col-role = роль
col-staff-state = состояние
col-keys = ключи
col-last-login = последний вход
col-name = имя

filter-none = все открытые
filter-any-open = Любое открытое состояние
filter-mine = мои
filter-unassigned = без исполнителя
filter-overdue = просроченные

hidden = (скрыто)
erased-or-absent = —
unassigned = никто
never = никогда

found-requests = Запросы по «{ $query }»: { $n }
found-requests-more = Запросы по «{ $query }»: последние { $n } (добавьте слово, чтобы сузить)
found-accounts = Аккаунты по «{ $query }»: { $n }
found-nothing = Ничего не найдено.
found-hint = Enter: открыть · Esc: назад к очереди

flag-locked = [заблокирован]
flag-blocked = [данные блокированы]
flag-erased = [удалён]
flag-one-admin = [<2 админ-логинов]
tag-masked = { " " }(маска)
tag-revealed = { " " }(раскрыто)
tag-check = { " " }[сверка]
tag-reveal = { " " }[раскрыть]
tag-extended = { " " }(продлён)

f-kind = Вид
f-state = Состояние
f-received = Получен
f-due = Срок
f-channel = Канал
f-assignee = Исполнитель
f-prepared-by = Подготовил
f-severity = Критичность
f-leak-notice = Уведомл. РКН до
f-leak-investigation = Итоги в РКН до
f-requester = Заявитель
f-subject = Тема
f-name = Имя
f-email = Почта
f-phone = Телефон
f-address = Почтовый адрес
f-tax-id = ИНН
f-contact-name = Имя
f-contact-email = Почта
f-contact-phone = Телефон
f-passphrase = Кодовая фраза

channel-email = почта
channel-phone = телефон
channel-portal = портал
channel-letter = письмо
channel-internal = внутренний

account-kind-individual = физ. лицо
account-kind-legal_entity = юр. лицо

section-account = Аккаунт
section-contact = Доверенное лицо { $n }
section-logins = Последние входы
section-sessions = Активные сеансы: { $n }
section-verification = Данные проверки (только для этого случая, §9)
section-timeline = Хронология, заметки, переписка
contact-no-email = нет почты: ссылку для сброса этому лицу отправить нельзя
passphrase-on-file = есть — можно только сверить
login-result-success = успешно
login-result-wrong_password = неверный пароль
login-result-locked = заблокирован
state-only-note = Этот запрос зарегистрировали вы; очередь не ваша, поэтому видно только состояние.

timeline-hidden = Переписка и заметки вашей роли не показываются.
timeline-empty = Пока ничего не записано.
entry-incoming = от клиента
entry-outgoing = клиенту
entry-note = заметка
entry-timeline = событие
entry-cut = … (дальше не показано)

choose-state = Показать запросы в состоянии
choose-event = Следующий шаг для { $id }
choose-severity = Критичность
choose-leak = Была ли утечка персональных данных?
choose-reason = Причина отказа
choose-ground = Законное основание отказа
choose-assignee = Назначить
choice-hint = ↑↓ выбор · Enter выбрать · Esc отмена
input-search = Поиск по темам запросов (целые слова)
input-find-account = Найти аккаунт: почта, телефон, ИНН или слова имени
input-note = Заметка к { $id } (хранится с запросом, зашифрована)
input-hint = Enter сохранить · Esc отмена · можно вставить

confirm-title = Подтвердите
confirm-hint = y / Enter: да     n / Esc: нет
confirm-quit = Выйти из privdesk?
confirm-release = Освободить { $id }, чтобы его мог взять любой в очереди?
confirm-event = { $event } — { $id }?
confirm-triage = Оценить { $id } с критичностью { $severity }?
confirm-refuse = Отказать по { $id }: { $reason }?
confirm-propose-refusal = Предложить отказ по { $id } на основании: { $ground }? Одобрить должен руководитель, который его не готовил.
confirm-disable = Отключить { $login }? Его сеансы сразу завершатся.
confirm-enable = Снова включить { $login }?
confirm-unlock = Снять блокировку входа с { $login }?
no-events = Сейчас ваша роль ничего не может сделать с этим запросом.

done-taken = Взято в работу.
done-released = Освобождено.
done-assigned = Назначено.
done-event = Готово.
done-note = Заметка сохранена.
done-staff = Сохранено.

staff-empty = Сотрудников нет.
staff-active = активен
staff-disabled = отключён
staff-locked = заблокирован до { $until }

audit-verifying = Проверка цепочки аудита…
audit-intact = Цепочка аудита цела: { $n ->
        [one] { $n } запись
        [few] { $n } записи
       *[many] { $n } записей
    }.
audit-broken = ЦЕПОЧКА АУДИТА НАРУШЕНА на записи { $seq }: { $why }

help-title = Клавиши
help-legend = !! просрочено   ! срок в течение рабочего дня   (маска) подсказка, а не значение   ␛ ⟨…⟩ обезвреженные управляющие символы

key-quit = выход
key-help = эта справка
key-back = назад
key-open = открыть
key-up = вверх
key-down = вниз
key-page-up = страница вверх
key-page-down = страница вниз
key-top = в начало
key-bottom = в конец
key-next-pane = другая панель
key-prev-pane = другая панель
key-tab = очередь { $n }
key-next-tab = следующая очередь
key-prev-tab = предыдущая очередь
key-take = взять
key-release = освободить
key-assign = назначить
key-note = заметка
key-events = следующий шаг
key-filter-state = фильтр по состоянию
key-toggle-mine = мои
key-toggle-unassigned = без исполнителя
key-toggle-overdue = просроченные
key-clear-filters = снять фильтры
key-search = поиск
key-find-account = найти аккаунт
key-refresh = обновить
key-confirm = да
key-cancel = отмена
key-submit = выбрать
key-submit-input = готово
key-next-field = следующее поле
key-disable = отключить
key-enable = включить
key-unlock = разблокировать

## The SSH server (src/ssh)
ssh-shutdown = Сервер рабочего места останавливается. Всё сохранённое на месте; несохранённые заметка или ответ потеряны. Подключитесь снова через минуту.
ssh-idle = Соединение закрыто: { $span } без нажатия клавиш. Подключитесь снова, чтобы продолжить.
ssh-lifetime = Сеанс достиг наибольшей разрешённой длительности ({ $span }). Подключитесь снова, чтобы продолжить.
ssh-full = Все сеансы рабочего места ({ $n }) заняты. Попробуйте позже или попросите администратора увеличить ssh.max_sessions.
ssh-no-pty = Этот сервер предоставляет только интерактивное рабочее место: подключайтесь из терминала (ssh -t).
ssh-no-exec = Команды здесь не выполняются: этот сервер предоставляет только интерактивное рабочее место (подключайтесь без команды).
ssh-no-subsystem = Передача файлов и другие подсистемы недоступны: этот сервер предоставляет только интерактивное рабочее место.
ssh-unavailable = База данных рабочего места сейчас не может записать ваш вход, поэтому рабочее место не открылось. Попробуйте через минуту.
ssh-error = Рабочее место остановилось из-за внутренней ошибки; она записана в журнал. Подключитесь снова, чтобы продолжить.

nothing-to-reveal = Ваша роль ничего не может раскрыть в этом запросе.
nothing-to-check = Ваша роль ничего не может сверить в этом запросе.
choose-reveal = Какое поле раскрыть? (записывается вместе с целью)
choose-check = Какое поле сверить с тем, что говорит заявитель?
choose-purpose = Зачем это нужно? (политика, §11)
purpose-identify_client = Идентифицировать клиента
purpose-protect_account = Защитить аккаунт
purpose-service_message = Отправить служебное сообщение
purpose-fulfil_request = Исполнить этот запрос
target-email = Почта
target-phone = Телефон
target-address = Почтовый адрес
target-tax-id = ИНН
target-contact-email = Доверенное лицо { $n }: почта
target-contact-phone = Доверенное лицо { $n }: телефон
target-contact-passphrase = Доверенное лицо { $n }: кодовая фраза
target-verification = Ответ проверки { $n }
input-check = Что говорит заявитель (покажем только «совпадает / не совпадает»)
check-match = ✓ Совпадает.
check-no-match = ✗ Не совпадает.
done-revealed = Раскрыто и записано; скроется через { $s } с или когда вы уйдёте из запроса.
notices-banner = ⚑ Для руководителей: { $n ->
        [one] { $n } уведомление
        [few] { $n } уведомления
       *[many] { $n } уведомлений
    } — нажмите !, чтобы просмотреть
notices-none = Открытых уведомлений нет.
choose-notice = Уведомления — Enter, чтобы подтвердить
notice-reveal_limit = { $staff } исчерпал часовой лимит раскрытий по { $request }
notice-check_limit = { $staff } исчерпал лимит сверок по { $request }
confirm-ack = Подтвердить уведомление? Ваш логин и время будут записаны.
done-ack = Подтверждено.
input-audit-filter = Фильтр: actor= account= action= purpose= outcome= since= until=
input-access-report = Отчёт о доступе к аккаунту (например, A12)
bad-account-id = Номер аккаунта выглядит как A12.
audit-filter-title = Журнал аудита · { $filter }
audit-access-title = Доступ к персональным данным { $account }: { $n ->
        [one] { $n } запись
        [few] { $n } записи
       *[many] { $n } записей
    }
key-reveal = раскрыть
key-check = сверить значение
key-notices = уведомления
key-audit-log = журнал аудита
key-access-report = отчёт о доступе
key-audit-filter = фильтр
span-short-days = { $n } дн.
span-short-hours = { $n } ч
span-short-minutes = { $n } мин
timeline-filed = зарегистрирован ({ $channel })
timeline-assigned = назначен: { $login }
timeline-released = освобождён
confirm-erase = Исполнить удаление { $id }: персональные данные { $account } и его ключ будут уничтожены навсегда, клиент потеряет функции, которым они нужны. Отменить это нельзя. Нажмите y, чтобы удалить, n — чтобы отказаться.
confirm-block = Исполнить блокирование { $id }: персональные данные { $account } замораживаются (§14) до разблокирования.
confirm-unblock = Исполнить разблокирование { $id }: персональными данными { $account } снова можно пользоваться.
confirm-contain = Локализовать { $id }: вход в { $account } закрывается, все его сеансы завершаются.
confirm-grave-hint = Это необратимо: нажмите y, чтобы продолжить, или n / Esc, чтобы отказаться (Enter здесь не подтверждает).
confirm-hint-grave = y: да, выполнить     n / Esc: нет
input-hint-check = Enter сверить · Esc отмена
input-hint-search = Enter искать · Esc отмена
input-hint-filter = Enter применить (пусто: всё) · Esc отмена
audit-record-title = Запись аудита { $seq }
confirm-hint-dismiss = Enter / Esc: закрыть
already-yours = Запрос уже ваш.
confirm-take-over = { $id } в работе у { $login }. Забрать его себе?
queue-empty-plain = Открытых запросов здесь нет.
details-title = Подробности
