package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Help-desk vocabulary, roughly most common first: texts draw words with a
// Zipf distribution over these ranks, so a few words are in most tickets and
// many are rare, as in real mail. That gives search postings lists of very
// different lengths, which is what makes search fast or slow. The Persian
// list holds words with a zero-width non-joiner (به‌روزرسانی, نمی‌شود) so
// normalization is on the measured path too.
var (
	persianWords = strings.Fields(`سلام لطفا مشکل سفارش پرداخت حساب کاربری رمز عبور ورود خطا سرویس
		اینترنت قطع فاکتور مبلغ بازگشت وجه ارسال تحویل کالا پیگیری شماره تماس پشتیبانی فوری اشتراک
		تمدید لغو تخفیف کد ایمیل پیامک تایید گوشی برنامه نصب به‌روزرسانی سرعت کند صفحه نمی‌شود کارت
		بانکی تراکنش ناموفق کیف پول آدرس تغییر مدارک احراز هویت قرارداد گارانتی تعویض خراب شکایت
		درخواست مرجوعی انبار موجودی هزینه ممنون همکار دفتر شعبه تهران اصفهان شیراز مشهد تبریز`)
	englishWords = strings.Fields(`hello please problem order payment account password login error
		service internet disconnected invoice refund shipping delivery tracking number support urgent
		subscription renewal cancel discount code email sms verification phone app install update slow
		page card transaction failed wallet address change documents identity contract warranty replace
		broken complaint request return stock fee thanks vpn router modem server backup license upgrade
		billing dashboard report export timeout crash android iphone windows printer`)
	firstNames = strings.Fields(`مریم علی زهرا محمد فاطمه حسین سارا رضا نگار امیر Sara David Maria John`)
	lastNames  = strings.Fields(`احمدی رضایی محمدی کریمی حسینی موسوی جعفری صادقی Smith Miller Garcia`)
)

// texts writes ticket subjects, bodies and search queries for one worker.
type texts struct {
	rng    *rand.Rand
	fa, en *rand.Zipf
}

func newTexts(rng *rand.Rand) *texts {
	return &texts{
		rng: rng,
		fa:  rand.NewZipf(rng, 1.1, 2, uint64(len(persianWords)-1)),
		en:  rand.NewZipf(rng, 1.1, 2, uint64(len(englishWords)-1)),
	}
}

// persian picks a ticket's language: most customers write Persian.
func (t *texts) persian() bool { return t.rng.IntN(10) < 7 }

// word draws one word; about one in seven comes from the other language,
// as Persian mail is full of English product terms.
func (t *texts) word(persian bool) string {
	if t.rng.IntN(7) == 0 {
		persian = !persian
	}
	if persian {
		return persianWords[t.fa.Uint64()]
	}
	return englishWords[t.en.Uint64()]
}

func (t *texts) words(persian bool, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.word(persian))
	}
	return b.String()
}

// subjectBody returns a new ticket's subject and first message. The order
// number gives every ticket a few rare tokens, as real tickets have.
func (t *texts) subjectBody() (subject, body string) {
	fa := t.persian()
	order := 100000 + t.rng.IntN(900000)
	subject = fmt.Sprintf("%s %d", t.words(fa, 3+t.rng.IntN(5)), order)
	body = fmt.Sprintf("%s\n\n%s\n%d\n%s", t.words(fa, 2), t.words(fa, 15+t.rng.IntN(30)), order, t.name())
	return subject, body
}

// reply returns an agent's answer.
func (t *texts) reply() string {
	fa := t.persian()
	return t.words(fa, 10+t.rng.IntN(30)) + "\n" + t.name()
}

// query returns two different words of one language, each drawn evenly
// from the vocabulary rather than by frequency: people search for the
// distinctive words of a ticket, not for "hello". The few very common
// words still come up in some queries, and their long postings lists then
// show in p95 and p99.
func (t *texts) query() string {
	list := englishWords
	if t.persian() {
		list = persianWords
	}
	i := t.rng.IntN(len(list))
	j := (i + 1 + t.rng.IntN(len(list)-1)) % len(list)
	return list[i] + " " + list[j]
}

func (t *texts) name() string {
	return firstNames[t.rng.IntN(len(firstNames))] + " " + lastNames[t.rng.IntN(len(lastNames))]
}
