# Writes N invented accounts as JSON Lines, for the import measurement in BENCHMARKS.md:
#   python3 benches/accounts_jsonl.py N [SHARE_WITH_PASSPHRASE] > accounts.jsonl
import json, random, sys
n = int(sys.argv[1]); pp = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
random.seed(1)
def inn10():
    d = [7, 7] + [random.randrange(10) for _ in range(7)]
    d.append(sum(a * b for a, b in zip(d, [2, 4, 10, 3, 5, 9, 4, 6, 8])) % 11 % 10)
    return ''.join(map(str, d))
for i in range(n):
    c = [{"name": f"Контакт {i} {j}", "email": f"c{i}.{j}@client{i}.example",
          "phone": f"+7 916 {i % 1000:03d}-{j:02d}-{i % 100:02d}"} for j in range(random.randint(1, 3))]
    if random.random() < pp:
        c[0]["passphrase"] = f"кодовое слово {i}"
    print(json.dumps({"external_id": f"crm-{i}", "kind": random.choice(["individual", "legal_entity"]),
        "name": f"ООО «Клиент {i}»", "email": f"Info{i}@Client{i}.example", "phone": f"8 (495) {i % 1000:03d}-{i % 100:02d}-{(i // 100) % 100:02d}",
        "postal_address": f"101000, г. Москва, ул. Тверская, д. {i % 200}", "tax_id": inn10(),
        "admin_logins": ["admin", f"it{i}"], "contacts": c}, ensure_ascii=False))
