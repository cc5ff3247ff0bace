-- The DuckDB peer of settle's core (bench/README.md): what a data engineer would write in SQL
-- for RULES.md §1 (which rows count), §2 (settlement and deposit variance), §3 (summary
-- against detail), §4 (purchase ↔ order, without IMEI reuse) and §5 for originals of the
-- same day (no look-back into stored runs), over the same canonical CSVs settle reads.
--
-- Placeholders, filled in by main.go: {{SRC}} the source directory (absolute, no trailing
-- slash), {{DATE}} the business date (YYYY-MM-DD), {{DATE_SLASH}} and {{DATE_COMPACT}} its
-- other spellings, {{CEILING}} the amount ceiling in yuan.
--
-- Every column is read as VARCHAR (explicit types, no sniffing) and then checked and cast the
-- way FEEDS.md says, so that a malformed row is set aside instead of failing the load. Money
-- is DECIMAL(18,2) throughout. The tables keep insertion order (preserve_insertion_order), so
-- rowid is the order of the lines of a file: the canonical order of RULES.md §1 is
-- (feed, file name, line).

-- Helpers -----------------------------------------------------------------------------------
CREATE MACRO money(s) AS CASE WHEN regexp_full_match(s, '(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?')
    THEN TRY_CAST(replace(s, ',', '') AS DECIMAL(18,2)) END;
CREATE MACRO whole(s) AS CASE WHEN regexp_full_match(s, '[0-9][0-9,]*') AND length(replace(s, ',', '')) <= 15
    THEN TRY_CAST(replace(s, ',', '') AS BIGINT) END;
CREATE MACRO ident(s) AS coalesce(regexp_full_match(s, '[A-Za-z0-9_-]{1,32}'), false);
CREATE MACRO ts(s) AS try_strptime(s, ['%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S', '%Y%m%d %H:%M:%S',
    '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M']);
CREATE MACRO dt(s) AS CAST(try_strptime(s, ['%Y-%m-%d', '%Y/%m/%d', '%Y%m%d']) AS DATE);
CREATE MACRO bizok(s) AS coalesce(s IN ('{{DATE}}', '{{DATE_SLASH}}', '{{DATE_COMPACT}}'), false);
CREATE MACRO pay(s) AS CASE
    WHEN upper(s) IN ('CASH', 'POS', 'WECHAT', 'ALIPAY', 'CHEQUE') THEN upper(s)
    WHEN s = '现金' THEN 'CASH' WHEN s = '银行卡' THEN 'POS' WHEN s = '微信' THEN 'WECHAT'
    WHEN s = '支付宝' THEN 'ALIPAY' WHEN s = '支票' THEN 'CHEQUE' END;
CREATE MACRO service(s) AS CASE
    WHEN upper(s) IN ('OPEN', 'CONTRACT', 'SIMCHG', 'TRANSFER', 'PLANCHG', 'NUMSEL', 'OTHER') THEN upper(s)
    WHEN s = '开户' THEN 'OPEN' WHEN s = '合约购机' THEN 'CONTRACT' WHEN s = '补换卡' THEN 'SIMCHG'
    WHEN s = '过户' THEN 'TRANSFER' WHEN s = '套餐变更' THEN 'PLANCHG' WHEN s = '选号' THEN 'NUMSEL'
    WHEN s = '其他' THEN 'OTHER' END;
CREATE MACRO rkind(s) AS CASE WHEN upper(s) IN ('VOID', 'REFUND') THEN upper(s)
    WHEN s = '冲正' THEN 'VOID' WHEN s = '退费' THEN 'REFUND' END;
CREATE MACRO origfeed(s) AS CASE WHEN lower(s) IN ('order', 'purchase', 'local_payment', 'remote_payment', 'card_sale') THEN lower(s)
    WHEN s = '业务办理' THEN 'order' WHEN s = '购机' THEN 'purchase' WHEN s = '本地缴费' THEN 'local_payment'
    WHEN s = '异地缴费' THEN 'remote_payment' WHEN s = '商务卡' THEN 'card_sale' END;
CREATE MACRO scat(s) AS CASE WHEN upper(s) IN ('LOCAL', 'REMOTE', 'CARD') THEN upper(s)
    WHEN s = '本地缴费' THEN 'LOCAL' WHEN s = '异地缴费' THEN 'REMOTE' WHEN s = '商务卡' THEN 'CARD' END;
CREATE MACRO clearing(s) AS CASE WHEN upper(s) IN ('CONFIRMED', 'PENDING', 'REJECTED') THEN upper(s)
    WHEN s = '已清算' THEN 'CONFIRMED' WHEN s = '待清算' THEN 'PENDING' WHEN s = '清算失败' THEN 'REJECTED' END;
CREATE MACRO ids_ok(c, o, k) AS ident(c) AND ident(o) AND ident(k);
CREATE MACRO amount_ok(a) AS a IS NOT NULL AND a > 0 AND a <= {{CEILING}};
CREATE MACRO src(filename, rn, first) AS substr(filename, length('{{SRC}}') + 2) || ':' || CAST(rn - first + 2 AS VARCHAR);
CREATE MACRO q(s) AS '"' || replace(replace(s, '\', '\\'), '"', '\"') || '"';

-- Load: one table per feed, all text, in file and line order ---------------------------------
CREATE TABLE raw_order AS SELECT * FROM read_csv('{{SRC}}/**/order.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'order_id': 'VARCHAR', 'msisdn': 'VARCHAR', 'service_code': 'VARCHAR', 'amount': 'VARCHAR',
               'pay_method': 'VARCHAR'});
CREATE TABLE raw_purchase AS SELECT * FROM read_csv('{{SRC}}/**/purchase.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'order_id': 'VARCHAR', 'imei': 'VARCHAR', 'model': 'VARCHAR', 'amount': 'VARCHAR',
               'pay_method': 'VARCHAR'});
CREATE TABLE raw_reversal AS SELECT * FROM read_csv('{{SRC}}/**/reversal.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'orig_txn_id': 'VARCHAR', 'orig_date': 'VARCHAR', 'orig_feed': 'VARCHAR', 'kind': 'VARCHAR',
               'amount': 'VARCHAR', 'pay_method': 'VARCHAR', 'approver_id': 'VARCHAR', 'reason': 'VARCHAR'});
CREATE TABLE raw_summary AS SELECT * FROM read_csv('{{SRC}}/**/payment_summary.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'category': 'VARCHAR',
               'pay_method': 'VARCHAR', 'txn_count': 'VARCHAR', 'amount': 'VARCHAR'});
CREATE TABLE raw_local AS SELECT * FROM read_csv('{{SRC}}/**/local_payment.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'msisdn': 'VARCHAR', 'account_id': 'VARCHAR', 'amount': 'VARCHAR', 'pay_method': 'VARCHAR'});
CREATE TABLE raw_remote AS SELECT * FROM read_csv('{{SRC}}/**/remote_payment.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'msisdn': 'VARCHAR', 'home_region': 'VARCHAR', 'amount': 'VARCHAR', 'pay_method': 'VARCHAR',
               'clearing_status': 'VARCHAR', 'clearing_ref': 'VARCHAR'});
CREATE TABLE raw_card AS SELECT * FROM read_csv('{{SRC}}/**/card_sale.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'txn_id': 'VARCHAR',
               'txn_time': 'VARCHAR', 'face_value': 'VARCHAR', 'serial_from': 'VARCHAR', 'serial_to': 'VARCHAR', 'quantity': 'VARCHAR',
               'amount': 'VARCHAR', 'pay_method': 'VARCHAR'});
CREATE TABLE raw_deposit AS SELECT * FROM read_csv('{{SRC}}/**/deposit.csv', header = true, auto_detect = false, filename = true,
    delim = ',', quote = '"', escape = '"',
    columns = {'biz_date': 'VARCHAR', 'city': 'VARCHAR', 'outlet_id': 'VARCHAR', 'counter_id': 'VARCHAR', 'pay_method': 'VARCHAR',
               'amount': 'VARCHAR', 'slip_no': 'VARCHAR'});

-- The first rowid of every file, for line numbers.
CREATE TABLE files AS
    SELECT filename, min(rowid) AS first FROM raw_order GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_purchase GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_reversal GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_summary GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_local GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_remote GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_card GROUP BY filename UNION ALL
    SELECT filename, min(rowid) FROM raw_deposit GROUP BY filename;

-- From here on every table carries its rows' file and line: the order of rows no longer
-- matters, and DuckDB may schedule freely.
SET preserve_insertion_order = false;

-- §1: the rows that parse and carry the run's date, typed ------------------------------------
CREATE TABLE v_order AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, order_id, service(service_code) AS service_code,
           money(amount) AS amount, pay(pay_method) AS pay_method, pay_method AS pay_raw, biz_date, msisdn
    FROM raw_order)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND order_id IS NOT NULL AND msisdn IS NOT NULL AND service_code IS NOT NULL
  AND amount IS NOT NULL AND amount <= {{CEILING}}
  AND (pay_method IS NOT NULL OR (pay_raw IS NULL AND amount = 0));
CREATE TABLE v_purchase AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, order_id, imei,
           money(amount) AS amount, pay(pay_method) AS pay_method, biz_date
    FROM raw_purchase)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND order_id IS NOT NULL AND imei IS NOT NULL AND amount_ok(amount) AND pay_method IS NOT NULL;
CREATE TABLE v_reversal AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, orig_txn_id, dt(orig_date) AS orig_date,
           origfeed(orig_feed) AS orig_feed, rkind(kind) AS kind, money(amount) AS amount, pay(pay_method) AS pay_method,
           approver_id, biz_date
    FROM raw_reversal)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND orig_txn_id IS NOT NULL AND orig_date IS NOT NULL AND year(orig_date) BETWEEN 1900 AND 2999 AND orig_date <= DATE '{{DATE}}'
  AND orig_feed IS NOT NULL AND kind IS NOT NULL AND amount_ok(amount) AND pay_method IS NOT NULL;
CREATE TABLE v_summary AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, scat(category) AS category, pay(pay_method) AS pay_method,
           whole(txn_count) AS txn_count, money(amount) AS amount, biz_date
    FROM raw_summary)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND category IS NOT NULL AND pay_method IS NOT NULL
  AND txn_count IS NOT NULL AND amount_ok(amount);
CREATE TABLE v_local AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, msisdn, account_id,
           money(amount) AS amount, pay(pay_method) AS pay_method, biz_date
    FROM raw_local)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND msisdn IS NOT NULL AND account_id IS NOT NULL AND amount_ok(amount) AND pay_method IS NOT NULL;
CREATE TABLE v_remote AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, msisdn, home_region,
           money(amount) AS amount, pay(pay_method) AS pay_method, clearing(clearing_status) AS clearing_status, biz_date
    FROM raw_remote)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND msisdn IS NOT NULL AND home_region IS NOT NULL AND amount_ok(amount) AND pay_method IS NOT NULL
  AND clearing_status IS NOT NULL;
CREATE TABLE v_card AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, txn_id, ts(txn_time) AS txn_time, money(face_value) AS face_value,
           serial_from, serial_to, whole(quantity) AS quantity, money(amount) AS amount, pay(pay_method) AS pay_method, biz_date
    FROM raw_card)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND txn_id IS NOT NULL AND txn_time IS NOT NULL
  AND amount_ok(face_value) AND quantity IS NOT NULL AND quantity >= 1
  AND regexp_full_match(serial_from, '[0-9]{1,18}') AND regexp_full_match(serial_to, '[0-9]{1,18}')
  AND length(serial_from) = length(serial_to) AND amount_ok(amount) AND pay_method IS NOT NULL;
CREATE TABLE v_deposit AS SELECT * FROM (
    SELECT filename, rowid AS rn, city, outlet_id, counter_id, pay(pay_method) AS pay_method, money(amount) AS amount, biz_date
    FROM raw_deposit)
WHERE bizok(biz_date) AND ids_ok(city, outlet_id, counter_id) AND pay_method IS NOT NULL AND amount_ok(amount);

-- §1: a txn_id seen again in feeds 1, 2, 3, 5, 6, 7 is a duplicate; the first in canonical
-- order is kept. Only the txn_ids seen more than once are ranked.
CREATE TABLE txns AS
    SELECT 1 AS f, filename, rn, txn_id FROM v_order UNION ALL
    SELECT 2, filename, rn, txn_id FROM v_purchase UNION ALL
    SELECT 3, filename, rn, txn_id FROM v_reversal UNION ALL
    SELECT 5, filename, rn, txn_id FROM v_local UNION ALL
    SELECT 6, filename, rn, txn_id FROM v_remote UNION ALL
    SELECT 7, filename, rn, txn_id FROM v_card;
CREATE TABLE dropped AS
    SELECT f, filename, rn FROM (
        SELECT f, filename, rn, row_number() OVER (PARTITION BY txn_id ORDER BY f, filename, rn) AS k
        FROM txns WHERE txn_id IN (SELECT txn_id FROM txns GROUP BY txn_id HAVING count(*) > 1))
    WHERE k > 1;
CREATE VIEW k_order AS SELECT * FROM v_order ANTI JOIN (SELECT * FROM dropped WHERE f = 1) d USING (filename, rn);
CREATE VIEW k_purchase AS SELECT * FROM v_purchase ANTI JOIN (SELECT * FROM dropped WHERE f = 2) d USING (filename, rn);
CREATE VIEW k_reversal AS SELECT * FROM v_reversal ANTI JOIN (SELECT * FROM dropped WHERE f = 3) d USING (filename, rn);
CREATE VIEW k_local AS SELECT * FROM v_local ANTI JOIN (SELECT * FROM dropped WHERE f = 5) d USING (filename, rn);
CREATE VIEW k_remote AS SELECT * FROM v_remote ANTI JOIN (SELECT * FROM dropped WHERE f = 6) d USING (filename, rn);
CREATE VIEW k_card AS SELECT * FROM v_card ANTI JOIN (SELECT * FROM dropped WHERE f = 7) d USING (filename, rn);

-- §2: settlement per counter × category × pay method ----------------------------------------
-- src is the first row that contributed (revenue feeds in order, then reversals), which the
-- deposit finding cites when the counter deposited nothing by that method.
CREATE TABLE revenue AS
    SELECT 1 AS f, 'ORDER_FEE' AS category, city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_order WHERE amount > 0 UNION ALL
    SELECT 2, 'TERMINAL', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_purchase UNION ALL
    SELECT 5, 'LOCAL_BILL', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_local UNION ALL
    SELECT 6, 'REMOTE_BILL', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_remote UNION ALL
    SELECT 7, 'CARD', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_card;
CREATE TABLE settlement AS
    WITH g AS (
        SELECT city, outlet_id, counter_id, category, pay_method, count(*) AS txn_count, sum(amount) AS gross,
               arg_min(struct_pack(filename, rn), struct_pack(f, filename, rn)) AS first
        FROM revenue GROUP BY ALL),
    r AS (
        SELECT city, outlet_id, counter_id,
               CASE orig_feed WHEN 'order' THEN 'ORDER_FEE' WHEN 'purchase' THEN 'TERMINAL' WHEN 'local_payment' THEN 'LOCAL_BILL'
                    WHEN 'remote_payment' THEN 'REMOTE_BILL' WHEN 'card_sale' THEN 'CARD' END AS category,
               pay_method, sum(amount) AS reversed, arg_min(struct_pack(filename, rn), struct_pack(filename, rn)) AS first
        FROM k_reversal GROUP BY ALL)
    SELECT city, outlet_id, counter_id, category, pay_method, coalesce(txn_count, 0) AS txn_count,
           coalesce(gross, 0)::DECIMAL(18,2) AS gross, coalesce(reversed, 0)::DECIMAL(18,2) AS reversed,
           (coalesce(gross, 0) - coalesce(reversed, 0))::DECIMAL(18,2) AS net,
           coalesce(g.first, r.first) AS first
    FROM g FULL JOIN r USING (city, outlet_id, counter_id, category, pay_method);

-- Deposit check per counter × pay method, never netted across methods.
CREATE TABLE variance AS
    WITH e AS (
        SELECT s.city, s.outlet_id, s.counter_id, s.pay_method, sum(s.net) AS expected,
               min(src(s.first.filename, s.first.rn, fl.first)) AS src
        FROM settlement s JOIN files fl ON fl.filename = s.first.filename GROUP BY ALL),
    d AS (
        SELECT city, outlet_id, counter_id, pay_method, sum(amount) AS deposited,
               arg_min(struct_pack(filename, rn), struct_pack(filename, rn)) AS first
        FROM v_deposit GROUP BY ALL)
    SELECT city, outlet_id, counter_id, pay_method, coalesce(expected, 0)::DECIMAL(18,2) AS expected,
           coalesce(deposited, 0)::DECIMAL(18,2) AS deposited,
           (coalesce(deposited, 0) - coalesce(expected, 0))::DECIMAL(18,2) AS variance,
           CASE WHEN d.first IS NOT NULL THEN src(d.first.filename, d.first.rn, (SELECT first FROM files WHERE filename = d.first.filename)) ELSE e.src END AS src
    FROM e FULL JOIN d USING (city, outlet_id, counter_id, pay_method)
    WHERE coalesce(expected, 0) <> 0 OR coalesce(deposited, 0) <> 0;

-- The findings, as exceptions.csv's columns ---------------------------------------------------
CREATE TABLE findings (code VARCHAR, severity VARCHAR, city VARCHAR, outlet_id VARCHAR, counter_id VARCHAR, feed VARCHAR,
    txn_id VARCHAR, amount DECIMAL(18,2), detail VARCHAR, source VARCHAR);

INSERT INTO findings
    SELECT CASE WHEN variance < 0 THEN 'DEPOSIT_SHORT' ELSE 'DEPOSIT_OVER' END,
           CASE WHEN variance < 0 THEN 'ERROR' ELSE 'WARNING' END,
           city, outlet_id, counter_id, 'deposit', '', variance,
           pay_method || ': expected ' || expected || ', deposited ' || deposited || ', variance ' || variance, src
    FROM variance WHERE variance <> 0;

-- §3: the payment summary against the local, remote and card detail.
INSERT INTO findings
    WITH s AS (
        SELECT city, outlet_id, counter_id, category, pay_method, sum(txn_count) AS n, sum(amount) AS amount,
               arg_min(struct_pack(filename, rn), struct_pack(filename, rn)) AS first
        FROM v_summary GROUP BY ALL),
    d AS (
        SELECT city, outlet_id, counter_id, category, pay_method, count(*) AS n, sum(amount) AS amount,
               arg_min(struct_pack(filename, rn), struct_pack(filename, rn)) AS first
        FROM (SELECT 'LOCAL' AS category, city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_local UNION ALL
              SELECT 'REMOTE', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_remote UNION ALL
              SELECT 'CARD', city, outlet_id, counter_id, pay_method, amount, filename, rn FROM k_card)
        GROUP BY ALL),
    m AS (
        SELECT city, outlet_id, counter_id, category, pay_method,
               coalesce(s.n, 0) AS sn, coalesce(s.amount, 0)::DECIMAL(18,2) AS sa,
               coalesce(d.n, 0) AS dn, coalesce(d.amount, 0)::DECIMAL(18,2) AS da,
               coalesce(s.first, d.first) AS first
        FROM s FULL JOIN d USING (city, outlet_id, counter_id, category, pay_method))
    SELECT 'SUMMARY_MISMATCH', 'ERROR', city, outlet_id, counter_id, 'payment_summary', '', sa - da,
           category || '/' || pay_method || ': summary ' || sn || ' txn ' || sa || ', detail ' || dn || ' txn ' || da,
           src(m.first.filename, m.first.rn, fl.first)
    FROM m JOIN files fl ON fl.filename = m.first.filename
    WHERE sn <> dn OR sa <> da;

-- §4: handset purchase ↔ CONTRACT order.
INSERT INTO findings
    SELECT 'PURCHASE_NO_ORDER', 'ERROR', city, outlet_id, counter_id, 'purchase', txn_id, NULL,
           'order_id ' || q(order_id) || ' matches no CONTRACT order of the day', src(p.filename, rn, fl.first)
    FROM k_purchase p JOIN files fl USING (filename)
    WHERE order_id NOT IN (SELECT order_id FROM k_order WHERE service_code = 'CONTRACT');
INSERT INTO findings
    SELECT 'ORDER_NO_PURCHASE', 'ERROR', city, outlet_id, counter_id, 'order', txn_id, NULL,
           'CONTRACT order ' || q(order_id) || ' has no handset purchase', src(o.filename, rn, fl.first)
    FROM k_order o JOIN files fl USING (filename)
    WHERE service_code = 'CONTRACT' AND order_id NOT IN (SELECT order_id FROM k_purchase);

-- §5: reversals and refunds, originals of the same day.
CREATE TABLE originals AS
    SELECT 'order' AS feed, txn_id, amount, pay_method FROM k_order UNION ALL
    SELECT 'purchase', txn_id, amount, pay_method FROM k_purchase UNION ALL
    SELECT 'local_payment', txn_id, amount, pay_method FROM k_local UNION ALL
    SELECT 'remote_payment', txn_id, amount, pay_method FROM k_remote UNION ALL
    SELECT 'card_sale', txn_id, amount, pay_method FROM k_card;
CREATE TABLE rev AS
    SELECT r.*, src(r.filename, r.rn, fl.first) AS source,
           o.feed IS NOT NULL AS found, o.amount AS orig_amount, o.pay_method AS orig_pay,
           CASE WHEN o.feed IS NOT NULL THEN sum(r.amount) OVER (PARTITION BY r.orig_feed, r.orig_txn_id, o.feed IS NOT NULL
               ORDER BY r.txn_time, r.txn_id ROWS UNBOUNDED PRECEDING) END AS running
    FROM k_reversal r JOIN files fl USING (filename)
    LEFT JOIN (SELECT * FROM originals WHERE txn_id IN (SELECT orig_txn_id FROM k_reversal)) o
        ON o.txn_id = r.orig_txn_id AND o.feed = r.orig_feed AND r.orig_date = DATE '{{DATE}}';
INSERT INTO findings
    SELECT 'VOID_NOT_SAME_DAY', 'ERROR', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'VOID of ' || orig_txn_id || ' dated ' || strftime(orig_date, '%Y-%m-%d'), source
    FROM rev WHERE kind = 'VOID' AND orig_date <> DATE '{{DATE}}';
INSERT INTO findings
    SELECT 'REFUND_NOT_APPROVED', 'ERROR', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'refund of ' || amount || ' with ' || CASE WHEN coalesce(approver_id, '') = '' THEN 'no approver'
               ELSE 'approved by the clerk''s own id ' || approver_id END, source
    FROM rev WHERE kind = 'REFUND' AND amount > 100 AND (coalesce(approver_id, '') = '' OR approver_id = counter_id);
INSERT INTO findings
    SELECT 'REVERSAL_ORPHAN', 'ERROR', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'original ' || orig_feed || ' ' || q(orig_txn_id) || ' of {{DATE}} not found among today''s valid rows', source
    FROM rev WHERE orig_date = DATE '{{DATE}}' AND NOT found;
INSERT INTO findings
    SELECT 'VOID_PARTIAL', 'ERROR', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'VOID of ' || orig_txn_id || ' for ' || amount || ', original ' || orig_amount, source
    FROM rev WHERE found AND kind = 'VOID' AND amount <> orig_amount;
INSERT INTO findings
    SELECT 'REVERSAL_METHOD_MISMATCH', 'WARNING', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'reversal paid by ' || pay_method || ', original ' || orig_txn_id || ' by ' || orig_pay, source
    FROM rev WHERE found AND pay_method <> orig_pay;
INSERT INTO findings
    SELECT 'REVERSAL_EXCEEDS_ORIGINAL', 'ERROR', city, outlet_id, counter_id, 'reversal', txn_id, amount,
           'reversals of ' || orig_txn_id || ' reach ' || running || ', original ' || orig_amount, source
    FROM rev WHERE found AND running > orig_amount;
