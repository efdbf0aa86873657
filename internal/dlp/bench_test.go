package dlp

import (
	"strings"
	"testing"
)

// benchMessage builds a support message of about 2 KB, Persian and English
// mixed, with a card, a CVV, an IBAN, a national ID and the usual numbers
// that are none of these.
func benchMessage() string {
	parts := []string{
		"سلام وقت بخیر. دیروز ساعت 14:30 از طریق درگاه پرداخت شما مبلغ 12,500,000 ریال از حسابم کسر شد ولی سفارش ثبت نشد. ",
		"شماره سفارش 1234567890123 و کد رهگیری ۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱۲۳۴ است. تاریخ تراکنش ۱۴۰۲/۰۵/۱۲ بود. ",
		"شماره کارت من ۶۰۳۷ ۹۹۱۲ ۳۴۵۶ ۷۸۹۳ هست و cvv2 کارت ۱۲۳ و تاریخ انقضا ۱۴۰۵/۰۳. ",
		"لطفا مبلغ را به شبا IR11 0170 0000 0012 3456 7890 01 به نام اینجانب با کد ملی 0012345679 برگردانید. ",
		"Hi, I also tried from my other card but the bank said the transaction was declined. ",
		"You can reach me at 09121234567 or +98 912 123 4567 between 9:00 and 17:00. ",
		"The invoice is dated 2024-01-15, request id 550e8400-e29b-41d4-a716-446655440000, server 192.168.1.10. ",
		"لطفا هر چه سریعتر پیگیری کنید، چون این مبلغ برای پرداخت قسط ماهانه لازم است و دیرکرد جریمه دارد. ",
	}
	var b strings.Builder
	for b.Len() < 2048 {
		for _, p := range parts {
			if b.Len() >= 2048 {
				break
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

func BenchmarkMask(b *testing.B) {
	msg := benchMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(msg)
	}
}

func BenchmarkScan(b *testing.B) {
	msg := benchMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		Scan(msg)
	}
}

// BenchmarkScanLarge scans 64 times the message, to show the cost per byte
// stays the same on large input.
func BenchmarkScanLarge(b *testing.B) {
	msg := strings.Repeat(benchMessage(), 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		Scan(msg)
	}
}

// BenchmarkReferenceToLower lower-cases the same message: a yardstick for
// reading the numbers above on a given machine (Mask should stay within a
// small multiple of it).
func BenchmarkReferenceToLower(b *testing.B) {
	msg := benchMessage()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		strings.ToLower(msg)
	}
}
