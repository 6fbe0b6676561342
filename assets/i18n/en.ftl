# privdesk — English catalog. Every message id here has a twin in ru.ftl (a test checks it).

months-short = Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
span-days = { $n ->
        [one] { $n } day
       *[other] { $n } days
    }
span-hours = { $n } h
span-minutes = { $n } min
span-seconds = { $n } s
deadline-in = in { $span }
deadline-overdue = overdue { $span }

too-small = Window too small: privdesk needs at least { $w }×{ $h } (now { $cw }×{ $ch }).
press-enter-to-close = Press Enter to close.
loading = Loading…
saving = Saving…
task-failed = Something went wrong inside the desk; nothing was changed. Try again, or tell an admin.
banner-db-down = The database cannot be reached — retrying. Nothing you typed is lost.
session-ended = Your session has ended: your account was disabled or changed. Nothing more can be done here.

login-title = Sign in to the support desk
login-login = Login
login-password = Password
login-password-typed = (typing hidden)
login-checking = Checking…
login-hint = Enter: next / sign in · Tab: switch field · Esc: quit
login-wrong = Wrong login or password.
login-disabled = This staff account is disabled. Ask an admin.
login-locked = Too many failed attempts: this account is locked until { $until }. Try later or ask an admin to unlock it.
login-demo-only = Demo logins work only on the demo database.

lock-title = Screen locked
lock-text = The screen locked after a while without input. Enter the password of { $login } to go on; your work is kept.

role-agent = support
role-oncall = on-call
role-supervisor = supervisor
role-auditor = auditor
role-admin = admin

screen-staff = Staff accounts
screen-audit = Audit log
no-queues = Your role works no queue.

queue-reset = Resets
queue-compromise = Compromise
queue-subject = Subject requests
queue-reset-short = Resets
queue-compromise-short = Compromise
queue-subject-short = Subjects
tab-counts = ({ $open })
tab-counts-overdue = ({ $open }, { $overdue } overdue)
# Narrow windows: `!!` marks overdue rows in the queues too.
tab-counts-overdue-short = ({ $open }, !!{ $overdue })
position = — { $n } of { $total }
queue-empty = Nothing here. Press c to clear the filters.

kind-password_reset = reset
kind-contact_change = contacts
kind-compromise = compromise
kind-subject_report = report
kind-subject_blocking = blocking
kind-subject_unblocking = unblocking
kind-subject_deletion = deletion
kind-long-password_reset = Password reset
kind-long-contact_change = Designated-contact change
kind-long-compromise = Compromise report
kind-long-subject_report = Account-state report
kind-long-subject_blocking = Blocking of personal data
kind-long-subject_unblocking = Unblocking of personal data
kind-long-subject_deletion = Deletion of personal data

state-received = received
state-verifying = verifying
state-verified = verified
state-link_sent = link sent
state-done = done
state-refused = refused
state-expired = expired
state-awaiting_approval = awaiting approval
state-approved = approved
state-applied = applied
state-reported = reported
state-triaged = triaged
state-contained = contained
state-verifying_client = verifying client
state-restored = restored
state-closed = closed
state-closed_unfounded = closed, unfounded
state-identity_verified = identity verified
state-prepared = prepared
state-executed = executed
state-client_notified = client notified
state-refusal_proposed = refusal proposed
state-refusal_approved = refusal approved

event-begin_verification = Begin verifying the requester
event-verify = Requester verified
event-send_link = Send the reset link to the contact's email
event-redeem = Link redeemed
event-expire = Link expired
event-refuse = Refuse…
event-submit_for_approval = Submit for approval
event-approve = Approve
event-send_back = Send back for rework
event-apply = Apply the change
event-notify_contacts = Contacts notified
event-triage = Triage…
event-contain = Contained (locked, sessions ended)
event-begin_client_verification = Begin verifying the client
event-restore = Access restored
event-close = Close
event-close_unfounded = Close as unfounded
event-verify_identity = Identity verified
event-prepare = Prepared (scope, legal holds)
event-execute = Execute
event-notify_client = Client notified
event-propose_refusal = Propose a refusal…

severity-1 = Severity 1 (1 hour)
severity-2 = Severity 2 (4 hours)
severity-3 = Severity 3 (1 working day)
severity-4 = Severity 4 (3 working days)
leak-yes = personal data leaked
leak-no = no personal-data leak

reason-not_designated_contact = Not a designated contact (§4)
reason-contact_has_no_email = The contact has no email to send a reset to
reason-employee_login = A login of the client's own employee (§5: recommend two admin logins)
reason-verification_failed = The requester could not be verified
reason-withdrawn = Withdrawn by the requester

ground-accounting_retention = Accounting law: documents kept until their retention date
ground-contract_performance = Needed to perform the contract
ground-authority_order = A lawful order of an authorised state body (§3)
ground-identity_not_confirmed = The requester's identity is not confirmed
ground-agreed_ground = Another ground agreed between the parties (§14)

col-kind = kind
col-account = account
col-state = state
col-assignee = assignee
col-due = due
col-login = login
col-role = role
col-staff-state = state
col-keys = keys
col-last-login = last login
col-name = name

filter-none = all open
filter-any-open = Any open state
filter-mine = mine
filter-unassigned = unassigned
filter-overdue = overdue

hidden = (hidden)
erased-or-absent = —
unassigned = nobody
never = never

found-requests = Requests matching “{ $query }”: { $n }
found-requests-more = Requests matching “{ $query }”: the newest { $n } (add a word to narrow)
found-accounts = Accounts matching “{ $query }”: { $n }
found-nothing = Nothing found.
found-hint = Enter: open · Esc: back to the queue

flag-locked = [locked]
flag-blocked = [blocked]
flag-erased = [erased]
flag-one-admin = [<2 admin logins]
tag-masked = { " " }(masked)
tag-revealed = { " " }(revealed)
tag-check = { " " }[check]
tag-reveal = { " " }[reveal]
tag-extended = { " " }(extended)

f-kind = Kind
f-state = State
f-received = Received
f-due = Due
f-channel = Channel
f-assignee = Assignee
f-prepared-by = Prepared by
f-severity = Severity
f-leak-notice = Regulator notice
f-leak-investigation = Regulator result
f-requester = Requester
f-subject = Subject
f-name = Name
f-email = Email
f-phone = Phone
f-address = Postal address
f-tax-id = Tax id
f-contact-name = Name
f-contact-email = Email
f-contact-phone = Phone
f-passphrase = Passphrase

channel-email = email
channel-phone = phone
channel-portal = portal
channel-letter = letter
channel-internal = internal

account-kind-individual = individual
account-kind-legal_entity = legal entity

section-account = Account
section-contact = Designated contact { $n }
section-logins = Recent logins
section-sessions = Active sessions: { $n }
section-verification = Verification data (this case only, §9)
section-timeline = Timeline, notes, correspondence
contact-no-email = no email: a reset cannot be delivered to this contact
passphrase-on-file = on file — can only be checked
login-result-success = ok
login-result-wrong_password = wrong password
login-result-locked = locked
state-only-note = You filed this request; its queue is not yours, so only its state is shown.

timeline-hidden = Correspondence and notes are not shown to your role.
timeline-empty = Nothing recorded yet.
entry-incoming = from client
entry-outgoing = to client
entry-note = note
entry-timeline = event
entry-cut = … (longer; cut here)

choose-state = Show requests in state
choose-event = Next step for { $id }
choose-severity = Severity
choose-leak = Did personal data leak?
choose-reason = Reason for refusing
choose-ground = Legal ground of the refusal
choose-assignee = Assign to
choice-hint = ↑↓ choose · Enter select · Esc cancel
input-search = Search request subjects (whole words)
input-find-account = Find an account: email, phone, tax id or name words
input-note = Note on { $id } (kept with the request, sealed)
input-hint = Enter save · Esc cancel · paste works

confirm-title = Please confirm
confirm-hint = y / Enter: yes     n / Esc: no
confirm-quit = Quit privdesk?
confirm-release = Release { $id } so anyone on the queue can take it?
confirm-event = { $event } — { $id }?
confirm-triage = Triage { $id } as severity { $severity }?
confirm-refuse = Refuse { $id }: { $reason }?
confirm-propose-refusal = Propose refusing { $id } on the ground: { $ground }? A supervisor who did not prepare it must approve.
confirm-disable = Disable { $login }? Their sessions end at once.
confirm-enable = Enable { $login } again?
confirm-unlock = Clear the lock-out of { $login }?
no-events = Nothing can be done to this request from your role now.

done-taken = Taken.
done-released = Released.
done-assigned = Assigned.
done-event = Done.
done-note = Note saved.
done-staff = Saved.

staff-empty = No staff accounts.
staff-active = active
staff-disabled = disabled
staff-locked = locked until { $until }

audit-verifying = Verifying the audit chain…
audit-intact = Audit chain intact: { $n } records.
audit-broken = AUDIT CHAIN BROKEN at record { $seq }: { $why }

help-title = Keys
help-legend = !! overdue   ! due within a working day   (masked) a hint, not the value   ␛ ⟨…⟩ neutralised control text

key-quit = quit
key-help = this help
key-back = back
key-open = open
key-up = up
key-down = down
key-page-up = page up
key-page-down = page down
key-top = first
key-bottom = last
key-next-pane = other pane
key-prev-pane = other pane
key-tab = queue { $n }
key-next-tab = next queue
key-prev-tab = previous queue
key-take = take
key-release = release
key-assign = assign
key-note = note
key-events = next step
key-filter-state = filter by state
key-toggle-mine = mine
key-toggle-unassigned = unassigned
key-toggle-overdue = overdue
key-clear-filters = clear filters
key-search = search
key-find-account = find account
key-refresh = refresh
key-confirm = yes
key-cancel = cancel
key-submit = select
key-submit-input = OK
key-next-field = next field
key-disable = disable
key-enable = enable
key-unlock = unlock

## The SSH server (src/ssh)
ssh-shutdown = The desk's server is shutting down. Everything you saved is kept; a note or reply you had not saved is not. Connect again in a minute.
ssh-idle = Disconnected after { $span } without a key pressed. Connect again to go on.
ssh-lifetime = This session reached its longest allowed length ({ $span }). Connect again to go on.
ssh-full = All { $n } sessions of this desk are in use. Try again later, or ask an admin to raise ssh.max_sessions.
ssh-no-pty = This server offers only the interactive desk: connect from a terminal (ssh -t).
ssh-no-exec = Commands are not run here: this server offers only the interactive desk (connect without a command).
ssh-no-subsystem = File transfer and other subsystems are not available: this server offers only the interactive desk.
ssh-unavailable = The desk's database cannot record your login right now, so the desk did not open. Try again in a minute.
ssh-error = The desk stopped because of an internal error; it was logged. Connect again to go on.

nothing-to-reveal = Your role may reveal nothing on this request.
nothing-to-check = Your role may check nothing on this request.
choose-reveal = Reveal which field? (recorded, with your purpose)
choose-check = Check which field against what the caller says?
choose-purpose = Why do you need it? (policy §11)
purpose-identify_client = To identify the client
purpose-protect_account = To protect the account
purpose-service_message = To send a service message
purpose-fulfil_request = To fulfil this request
target-email = Email
target-phone = Phone
target-address = Postal address
target-tax-id = Tax id
target-contact-email = Designated contact { $n }: email
target-contact-phone = Designated contact { $n }: phone
target-contact-passphrase = Designated contact { $n }: passphrase
target-verification = Verification answer { $n }
input-check = What the caller says (only match / no match is shown)
check-match = ✓ It matches.
check-no-match = ✗ It does not match.
done-revealed = Revealed and recorded; hidden again in { $s } s or when you leave the request.
notices-banner = ⚑ { $n ->
        [one] { $n } notice
       *[other] { $n } notices
    } for supervisors — press ! to review
notices-none = No open notices.
choose-notice = Notices — Enter to acknowledge
notice-reveal_limit = { $staff } reached the hourly reveal limit on { $request }
notice-check_limit = { $staff } reached the check limit on { $request }
confirm-ack = Acknowledge this notice? Your login and the time are recorded.
done-ack = Acknowledged.
input-audit-filter = Filter: actor= account= action= purpose= outcome= since= until=
input-access-report = Access report of account (e.g. A12)
bad-account-id = An account id looks like A12.
audit-filter-title = Audit log · { $filter }
audit-access-title = Access to the personal data of { $account }: { $n } entries
key-reveal = reveal
key-check = check a value
key-notices = notices
key-audit-log = audit log
key-access-report = access report
key-audit-filter = filter
span-short-days = { $n } d
span-short-hours = { $n } h
span-short-minutes = { $n } min
timeline-filed = filed ({ $channel })
timeline-assigned = assigned to { $login }
timeline-released = released
confirm-erase = Execute the deletion { $id }: the personal data of { $account } and its key are destroyed for good, and the client loses the functions that need them. This cannot be undone. Press y to erase, n to stop.
confirm-block = Execute the blocking { $id }: the personal data of { $account } is frozen (§14) until an unblocking.
confirm-unblock = Execute the unblocking { $id }: the personal data of { $account } can be used again.
confirm-contain = Contain { $id }: { $account } is locked (nobody can log in) and all its sessions end.
confirm-grave-hint = This cannot be undone: press y to go ahead, or n / Esc to stop (Enter does not confirm it).
confirm-hint-grave = y: yes, go ahead     n / Esc: no
input-hint-check = Enter check · Esc cancel
input-hint-search = Enter search · Esc cancel
input-hint-filter = Enter apply (empty: everything) · Esc cancel
audit-record-title = Audit record { $seq }
confirm-hint-dismiss = Enter / Esc: close
already-yours = It is already yours.
confirm-take-over = { $login } holds { $id }. Take it over?
queue-empty-plain = Nothing open here.
details-title = Details
