package engine

import (
	"testing"

	"settle/connectors"
	"settle/feed"
)

// TestDetailLanguages: the details and reject reasons of a few representative codes are in
// Chinese by default (columns and feeds by their Chinese names) and in English with Lang
// "en"; codes, ids, amounts, dates and sources are the same in both, and FEEDS.md's
// `repeated header` is English in both.
func TestDetailLanguages(t *testing.T) {
	zh := []string{
		"DEPOSIT_SHORT | CASH：应解 20.00，实解 5.00，长短款 -15.00",
		`DUPLICATE_TXN | 流水号 "L1" 已出现；此行与保留的行（本地缴费日报 local_payment.csv:2）不同`,
		`FEED_MISSING | "/data/day" 下没有报表 card_sale（商务卡日报）的文件`,
		"INVOICE_GAP | 发票代码 IC：缺 2 个号码：00000002-00000003",
		`MALFORMED_ROW | 金额 "12.345" 超过两位小数`,
		"REMOTE_PENDING | 清算待定",
		"SUMMARY_MISMATCH | LOCAL/CASH：交费日报 0 笔 0.00，明细 1 笔 10.00",
		"SUMMARY_MISMATCH | REMOTE/CASH：交费日报 0 笔 0.00，明细 1 笔 10.00",
		`WRONG_DATE | 账务日期 "2026-11-20" 不是本次对账日期 2026-11-21`,
		`reject MALFORMED_ROW: 金额 "12.345" 超过两位小数`,
		`reject WRONG_DATE: 账务日期 "2026-11-20" 不是本次对账日期 2026-11-21`,
		`reject DUPLICATE_TXN: 流水号 "L1" 已出现；此行与保留的行（本地缴费日报 local_payment.csv:2）不同`,
		"reject repeated header",
	}
	en := []string{
		"DEPOSIT_SHORT | CASH: expected 20.00, deposited 5.00, variance -15.00",
		`DUPLICATE_TXN | txn_id "L1" already seen; this row differs from the one kept (local_payment local_payment.csv:2)`,
		`FEED_MISSING | no file for feed card_sale (商务卡日报) under "/data/day"`,
		"INVOICE_GAP | invoice code IC: 2 number(s) missing: 00000002-00000003",
		`MALFORMED_ROW | amount "12.345" has more than two decimals`,
		"REMOTE_PENDING | clearing pending",
		"SUMMARY_MISMATCH | LOCAL/CASH: summary 0 txn 0.00, detail 1 txn 10.00",
		"SUMMARY_MISMATCH | REMOTE/CASH: summary 0 txn 0.00, detail 1 txn 10.00",
		`WRONG_DATE | biz_date "2026-11-20" is not the run's date 2026-11-21`,
		`reject MALFORMED_ROW: amount "12.345" has more than two decimals`,
		`reject WRONG_DATE: biz_date "2026-11-20" is not the run's date 2026-11-21`,
		`reject DUPLICATE_TXN: txn_id "L1" already seen; this row differs from the one kept (local_payment local_payment.csv:2)`,
		"reject repeated header",
	}
	for _, tt := range []struct {
		lang string
		want []string
	}{{"", zh}, {"zh", zh}, {"en", en}} {
		t.Run("lang "+tt.lang, func(t *testing.T) {
			d := dayOf(
				r(ORD, "txn_id=O1|amount=12.345"),
				r(ORD, "txn_id=O2|biz_date=2026-11-20"),
				r(RP, "txn_id=M1|clearing_status=PENDING"),
				r(DEP, "amount=5.00"),
				r(INV, "txn_id=L1|invoice_no=00000001|amount=10.00"),
				r(INV, "txn_id=M1|invoice_no=00000004|amount=10.00"),
			)
			// L1 twice, and the header repeated after the rows.
			d.Inputs[feed.LocalPayment] = input(LP, "local_payment.csv",
				csvOf(LP, []string{"txn_id=L1|amount=10.00", "txn_id=L1|amount=20.00"})+csvOf(LP, nil))
			d.Missing = []connectors.Missing{{Feed: feed.CardSale, Reason: `no file for feed card_sale (商务卡日报) under "/data/day"`,
				Why: connectors.Why{Kind: connectors.WhyNoFile, Dir: "/data/day"}}}
			res := reconcileLang(t, d, tt.lang)
			var got []string
			for _, e := range res.Exceptions {
				got = append(got, string(e.Code)+" | "+e.Detail)
			}
			for _, rj := range res.Rejects {
				got = append(got, "reject "+rj.Reason)
			}
			same(t, "details", got, tt.want)
		})
	}
}
