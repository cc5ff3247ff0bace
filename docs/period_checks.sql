-- The data checks of PERIOD.md (SHORTFALL_RECURRENT, SHORTFALL_CUMULATIVE,
-- OVER_SHORT_ALTERNATING, REFUND_NEAR_LIMIT) over a month of published runs, in DuckDB SQL
-- on the runs' Parquet (money DECIMAL(18,2), dates DATE): an independent check of
-- period_truth.csv (docs/PARQUET.md). Replace STORE with the store directory.
WITH v AS (SELECT * FROM read_parquet('STORE/2026-11-*/current/variance.parquet')),
r AS (SELECT * FROM read_parquet('STORE/2026-11-*/current/feeds/reversal.parquet')),
shorts AS (SELECT city, outlet_id, counter_id, count(DISTINCT biz_date) AS days, sum(variance) AS s FROM v WHERE variance < 0 GROUP BY ALL),
cash AS (SELECT city, outlet_id, counter_id, biz_date, variance, row_number() OVER (PARTITION BY counter_id ORDER BY biz_date) AS i FROM v WHERE pay_method='CASH' AND variance <> 0),
brk AS (SELECT *, CASE WHEN lag(sign(variance)) OVER (PARTITION BY counter_id ORDER BY biz_date) = sign(variance) OR lag(variance) OVER (PARTITION BY counter_id ORDER BY biz_date) IS NULL THEN 1 ELSE 0 END AS newrun FROM cash),
runs AS (SELECT *, sum(newrun) OVER (PARTITION BY counter_id ORDER BY biz_date) AS run FROM brk),
rl AS (SELECT city, outlet_id, counter_id, run, count(*) AS n, sum(abs(variance)) AS s FROM runs GROUP BY ALL),
best AS (SELECT city, outlet_id, counter_id, arg_max(s, n*1000 - run) AS s, max(n) AS n FROM rl GROUP BY ALL),
near AS (SELECT city, outlet_id, counter_id, count(*) AS n, sum(amount) AS s FROM r WHERE kind='REFUND' AND amount BETWEEN 90 AND 100 GROUP BY ALL)
SELECT 'SHORTFALL_RECURRENT' AS code, counter_id, s FROM shorts WHERE days >= 3
UNION ALL SELECT 'SHORTFALL_CUMULATIVE', counter_id, s FROM shorts WHERE s <= -500
UNION ALL SELECT 'OVER_SHORT_ALTERNATING', counter_id, s FROM best WHERE n >= 4
UNION ALL SELECT 'REFUND_NEAR_LIMIT', counter_id, s FROM near WHERE n >= 3
ORDER BY 1, 2
