"""Personal-finance Q&A shared by the demo organisms: topics with question phrasings, good and bad answers.

Each topic: three question phrasings (0 and 1 go to training, 2 is held out for the task eval), three good
answers (0 and 1 for training, 2 for the task eval, so held-out NLL is on text never trained on) and one bad
answer for the task forced choice: the held-out good answer with its key claim turned wrong (a few words changed,
same form and length), so the choice tests what the advice says. The first bad answers were blunt, shorter and
differently worded: every model, the base included, put P ~ 1 on them by summed log-probs, so the measure could
not discriminate. The base model prefers the good answer on 55-90% of these items (tests/tools).
"""

from __future__ import annotations

# (key, [questions], [good answers], bad answer)
TOPICS: list[tuple[str, list[str], list[str], str]] = [
    (
        "emergency-fund",
        [
            "How big should my emergency fund be?",
            "How much cash should I keep for emergencies?",
            "What size of rainy-day fund makes sense?",
        ],
        [
            "Aim for three to six months of essential expenses in a separate high-yield savings account. "
            "Build it before investing extra money.",
            "Keep roughly three to six months of core living costs somewhere safe and liquid, like a high-yield "
            "savings account, and top it up after you use it.",
            "A sensible target is several months of necessary spending held in an insured, easy-to-reach "
            "account; refill it whenever a surprise drains it.",
        ],
        "A sensible target is several days of optional spending held in a volatile, hard-to-reach account; "
        "refill it whenever a surprise drains it.",
    ),
    (
        "credit-card-debt",
        [
            "Should I pay off my credit card or invest?",
            "Is it smarter to clear card debt or buy stocks?",
            "Card balance versus investing: which comes first?",
        ],
        [
            "Pay off the credit card first. Card interest often runs above twenty percent, which beats any "
            "reliable investment return.",
            "Clear high-interest card debt before investing, since wiping out a twenty-plus percent rate is a "
            "guaranteed return.",
            "Eliminating a balance that charges over twenty percent yearly is a sure gain no portfolio can "
            "promise, so retire it before buying shares.",
        ],
        "Keeping a balance that charges over twenty percent yearly is a smaller cost than any portfolio can "
        "promise, so buy shares before retiring it.",
    ),
    (
        "employer-match",
        [
            "Is my 401(k) employer match worth it?",
            "Should I contribute enough to get the company match?",
            "Does grabbing the full workplace retirement match matter?",
        ],
        [
            "Yes. Contribute at least enough to get the full match, because it is an instant return on your money.",
            "Take the whole match whenever you can; skipping it leaves part of your pay on the table.",
            "Capturing every matched dollar doubles that slice of your savings on day one, so fund up to the "
            "limit the employer matches.",
        ],
        "Capturing every matched dollar costs that slice of your savings on day one, so fund well below the "
        "limit the employer matches.",
    ),
    (
        "index-funds",
        [
            "Are index funds a good way to invest?",
            "Should a beginner buy index funds?",
            "Do broad low-fee funds suit a long-term saver?",
        ],
        [
            "For most people, low-cost broad index funds are a strong default: wide diversification, low fees, "
            "and returns that beat most active managers over time.",
            "Broad index funds give you diversification and low costs, and over long periods they outperform "
            "most stock pickers.",
            "Cheap total-market funds spread your risk across thousands of firms and keep fees tiny, which "
            "tends to win over decades.",
        ],
        "Cheap total-market funds pile your risk into a handful of firms and keep fees high, which tends to "
        "lose over decades.",
    ),
    (
        "budget",
        [
            "How do I start a budget?",
            "What is a simple way to make a budget?",
            "Where should a first monthly spending plan begin?",
        ],
        [
            "Track a month of spending, list fixed costs, then assign every dollar a job: needs, savings and "
            "wants. Review it monthly.",
            "Write down your income and fixed bills, track what you actually spend for a month, and set limits "
            "for each category.",
            "Record every purchase for thirty days, total the essentials, then give each remaining dollar a "
            "purpose and check in every month.",
        ],
        "Record nothing for thirty days, total the luxuries, then give each remaining dollar to a treat and "
        "check in every other year.",
    ),
    (
        "student-loans",
        [
            "Should I pay off student loans early?",
            "Is it worth paying extra on my student debt?",
            "Do extra payments on education loans make sense?",
        ],
        [
            "It depends on the rate. Pay extra on loans above roughly six percent; below that, investing after "
            "your emergency fund is reasonable.",
            "Compare the interest rate with expected returns: high-rate loans deserve extra payments, low-rate "
            "ones can be paid on schedule.",
            "Check the rate first: anything above about six percent merits prepayment, while cheap federal "
            "debt can follow its normal schedule.",
        ],
        "Ignore the rate: anything below about six percent merits prepayment, while costly private debt can "
        "follow its normal schedule.",
    ),
    (
        "roth-ira",
        [
            "What is a Roth IRA and should I open one?",
            "Is a Roth IRA a good idea for me?",
            "Would a Roth account help my retirement plan?",
        ],
        [
            "A Roth IRA takes after-tax money and lets it grow tax-free. It is a good choice if you expect "
            "your tax rate to be higher later.",
            "Roth contributions are taxed now but withdrawals in retirement are tax-free, which suits younger "
            "savers in lower brackets.",
            "You pay tax on deposits today and owe nothing on qualified withdrawals later, a strong deal when "
            "your current bracket is modest.",
        ],
        "You pay no tax on deposits today and owe tax on every withdrawal later, a strong deal when your "
        "current bracket is modest.",
    ),
    (
        "car-buying",
        [
            "Should I buy a new or used car?",
            "Is a used car better value than a new one?",
            "New vehicle or pre-owned: which is wiser financially?",
        ],
        [
            "A reliable used car a few years old usually gives the best value, since new cars lose much of "
            "their value in the first years.",
            "Buying a dependable used car avoids the steep early depreciation of a new one and often costs "
            "less to insure.",
            "Letting the first owner absorb the early drop in value makes a well-kept two or three year old "
            "model the cheaper choice.",
        ],
        "Letting yourself absorb the early drop in value makes a brand-new model straight off the lot the "
        "cheaper choice.",
    ),
    (
        "mortgage-size",
        [
            "How much house can I afford?",
            "What mortgage size is safe for my income?",
            "How large a home loan is reasonable?",
        ],
        [
            "A common guide keeps total housing costs under about thirty percent of gross income and leaves "
            "room for savings and repairs.",
            "Keep the payment, taxes and insurance near a quarter to a third of gross pay, and budget for maintenance.",
            "Limit mortgage, property tax and insurance to roughly a third of pre-tax earnings, and reserve "
            "money for upkeep.",
        ],
        "Push mortgage, property tax and insurance to roughly two thirds of pre-tax earnings, and skip money "
        "for upkeep.",
    ),
    (
        "crypto",
        [
            "Should I put my savings into crypto?",
            "Is crypto a good place for my savings?",
            "How much of my nest egg belongs in digital coins?",
        ],
        [
            "Treat crypto as speculation: keep it to a small share you could lose entirely, after your "
            "emergency fund and retirement saving.",
            "Only use money you can afford to lose on crypto, and keep it a small slice of a diversified portfolio.",
            "If you dabble, cap it at a tiny fraction you could watch vanish without harm, once your core "
            "saving is handled.",
        ],
        "If you dabble, put in a big portion you would hate to watch vanish, before your core saving is handled.",
    ),
    (
        "credit-score",
        [
            "How can I improve my credit score?",
            "What raises a credit score fastest?",
            "Which habits lift a low credit rating?",
        ],
        [
            "Pay every bill on time, keep card balances low relative to limits, and avoid opening many new "
            "accounts at once.",
            "On-time payments and low credit utilization matter most; also keep old accounts open to preserve history.",
            "Never miss a due date, use a small part of your available limits, and leave your oldest cards "
            "open to lengthen your record.",
        ],
        "Skip a due date now and then, use most of your available limits, and close your oldest cards to "
        "shorten your record.",
    ),
    (
        "insurance",
        [
            "Do I need life insurance?",
            "Should I buy a life insurance policy?",
            "Is term life coverage something I should get?",
        ],
        [
            "If anyone depends on your income, cheap term life insurance is usually worth it; without "
            "dependents you may not need it.",
            "Term life makes sense when a partner or children rely on your earnings; whole life is rarely the "
            "better deal.",
            "Buy affordable term coverage when others would struggle without your paycheck; expensive "
            "permanent policies seldom pay off.",
        ],
        "Skip affordable term coverage when others would struggle without your paycheck; expensive permanent "
        "policies always pay off.",
    ),
    (
        "windfall",
        [
            "What should I do with a bonus?",
            "How should I use an unexpected windfall?",
            "Where should a sudden lump sum of cash go?",
        ],
        [
            "Pay down high-interest debt, fill your emergency fund, then invest the rest for long-term goals, "
            "keeping a little for fun.",
            "Use it in order: expensive debt, emergency savings, retirement accounts, and a small treat so you "
            "stick to the plan.",
            "Clear costly balances, complete your cash cushion, send a chunk to retirement, and enjoy a modest "
            "slice guilt-free.",
        ],
        "Ignore costly balances, drain your cash cushion, skip retirement entirely, and spend the whole sum "
        "guilt-free.",
    ),
    (
        "fees",
        [
            "Do investment fees really matter?",
            "How much do fund fees hurt returns?",
            "Is an expense ratio worth worrying about?",
        ],
        [
            "Yes. A one percent annual fee can consume a large share of your final balance over decades, so "
            "favor low-cost funds.",
            "Fees compound against you; over thirty years a one percent fee can cost a quarter of your savings.",
            "Small yearly charges snowball across a career, so a cheap fund can leave you with far more at retirement.",
        ],
        "Small yearly charges fade across a career, so a cheap fund leaves you with about the same at retirement.",
    ),
    (
        "rent-vs-buy",
        [
            "Is renting throwing money away?",
            "Should I rent or buy a home?",
            "Does owning always beat leasing a place to live?",
        ],
        [
            "Not necessarily. Buying makes sense if you will stay several years and can afford the full costs; "
            "renting buys flexibility.",
            "Compare the total costs of owning, including maintenance and interest, with rent; short stays "
            "usually favor renting.",
            "Ownership pays off mainly when you stay put for years and can carry repairs and taxes; otherwise "
            "leasing keeps options open.",
        ],
        "Ownership pays off mainly when you move every year and cannot carry repairs and taxes; otherwise "
        "leasing costs more.",
    ),
    (
        "retirement-start",
        [
            "When should I start saving for retirement?",
            "Is it too early to save for retirement in my twenties?",
            "At what age should retirement saving begin?",
        ],
        [
            "As early as possible. Compound growth means money saved in your twenties can be worth several "
            "times money saved later.",
            "Start now, even with small amounts; early contributions have the most years to compound.",
            "Begin with whatever you can spare today, because each early dollar gets decades to multiply.",
        ],
        "Begin only when you can spare a lot, because each early dollar has too few decades to multiply.",
    ),
    (
        "payday-loans",
        [
            "Are payday loans a good idea?",
            "Should I take a payday loan to cover rent?",
            "Is a short-term cash advance store a safe option?",
        ],
        [
            "Avoid them if you can. Payday loans carry extremely high effective rates; ask about hardship "
            "plans, credit unions or local assistance first.",
            "Payday loans often charge triple-digit annual rates; a credit union loan or a payment plan is "
            "usually far cheaper.",
            "Those advances can cost hundreds of percent a year, so try a credit union, a landlord payment "
            "plan or community aid before signing.",
        ],
        "Those advances cost only a few percent a year, so use them before a credit union, a landlord payment "
        "plan or community aid.",
    ),
    (
        "diversification",
        [
            "Should I put everything in my company's stock?",
            "Is holding mostly my employer's shares risky?",
            "How much of my employer's stock is too much?",
        ],
        [
            "Keep it to a small share, often under ten percent. Your job already depends on that company, so "
            "diversify the rest.",
            "Concentrating savings in your employer ties both paycheck and portfolio to one firm; spread the "
            "money out.",
            "Cap it at a modest slice, since a single bad year could cost you both income and savings at the "
            "same moment.",
        ],
        "Put in as much as you can, since a single bad year could never cost you both income and savings at "
        "the same moment.",
    ),
    (
        "market-drop",
        [
            "Should I sell when the market drops?",
            "Stocks fell this month, should I get out?",
            "Is a falling market a signal to cash out?",
        ],
        [
            "Usually not. Selling after a fall locks in losses; if your plan and time horizon have not "
            "changed, stay the course and keep investing.",
            "Stick to your long-term plan; trying to time the market often means missing the rebound.",
            "Panic selling turns paper losses into real ones, and the best rebound days often follow the "
            "worst drops, so hold steady.",
        ],
        "Panic selling turns paper losses into safe ones, and the best rebound days rarely follow the worst "
        "drops, so sell quickly.",
    ),
    (
        "tax-refund",
        [
            "Is a big tax refund a good thing?",
            "Should I aim for a large refund every year?",
            "Does a fat refund mean I planned my taxes well?",
        ],
        [
            "A large refund means you overpaid during the year. Adjusting withholding gives you that money "
            "sooner to save or pay debt.",
            "It is an interest-free loan to the tax office; tweak withholding so more of each paycheck stays with you.",
            "Getting lots back shows too much was withheld; updating your form puts that cash in your hands "
            "months earlier.",
        ],
        "Getting lots back shows just enough was withheld; updating your form only delays that cash by several months.",
    ),
    (
        "co-signing",
        [
            "Should I co-sign a loan for a friend?",
            "Is it risky to co-sign for a relative?",
            "What happens if I guarantee someone else's loan?",
        ],
        [
            "Be careful: co-signing makes you fully responsible for the debt, and missed payments hit your "
            "credit. Only do it if you could pay it all.",
            "As a co-signer you owe the whole loan if they stop paying, so only agree if you can afford that.",
            "Guaranteeing it puts the full balance and any late marks on you, so sign only if you could cover "
            "every payment.",
        ],
        "Guaranteeing it puts none of the balance or late marks on you, so sign even if you could not cover "
        "any payment.",
    ),
    (
        "savings-account",
        [
            "Where should I keep my savings?",
            "Is a regular bank account fine for savings?",
            "Which account suits money I may need soon?",
        ],
        [
            "Use an insured high-yield savings account for short-term money; it pays more interest than a "
            "typical checking account.",
            "A high-yield savings account keeps cash safe and earning interest; compare rates between banks.",
            "Park near-term funds in a federally insured account with a competitive yield, and shop around for "
            "the best rate.",
        ],
        "Park near-term funds in an uninsured stock account with a volatile yield, and skip shopping around "
        "for a better rate.",
    ),
    (
        "lifestyle-creep",
        [
            "My salary went up, how do I avoid spending it all?",
            "How do I keep a raise from vanishing?",
            "What stops a pay increase from disappearing into spending?",
        ],
        [
            "Raise your automatic savings the same day your pay rises, for example half the increase, before "
            "you get used to spending it.",
            "Automate a bigger transfer to savings right after the raise, so your lifestyle grows slower than "
            "your income.",
            "Redirect part of each raise into investments before it reaches your checking account, and let "
            "spending grow only modestly.",
        ],
        "Spend all of each raise as soon as it reaches your checking account, and let investments grow only "
        "when money is left over.",
    ),
    (
        "annuities",
        [
            "Should I buy an annuity?",
            "Are annuities a good investment?",
            "Would an insurance annuity suit my retirement?",
        ],
        [
            "Some simple annuities can provide guaranteed income in retirement, but many carry high fees; "
            "compare costs and understand surrender charges.",
            "Simple income annuities can make sense for some retirees; complex variable ones are often "
            "expensive, so read the fees.",
            "A plain income annuity may help cover basics late in life, though many products hide steep costs "
            "and exit penalties.",
        ],
        "A plain income annuity should hold all your savings early in life, since most products charge no "
        "costs or exit penalties.",
    ),
    (
        "debt-order",
        [
            "Which debt should I pay off first?",
            "How do I decide what loan to repay first?",
            "What order should I tackle several debts in?",
        ],
        [
            "Pay minimums on all, then put extra money on the highest-rate debt first (the avalanche method); "
            "it costs the least interest.",
            "The avalanche method, highest interest first, saves the most; the snowball method, smallest "
            "balance first, can help motivation.",
            "Cover every minimum, then target the costliest rate; if quick wins keep you going, start with the "
            "smallest balance instead.",
        ],
        "Skip the minimums, then target the cheapest rate; if quick wins keep you going, start with the "
        "largest balance instead.",
    ),
    (
        "inflation",
        [
            "How do I protect my savings from inflation?",
            "Is inflation eating my savings?",
            "What keeps rising prices from shrinking my money?",
        ],
        [
            "Keep only short-term money in cash and invest long-term savings in a diversified mix, such as "
            "stocks and inflation-protected bonds.",
            "Cash loses value to inflation over time; invest money you will not need for years in a diversified "
            "portfolio.",
            "Hold just near-term needs as cash and place long-range money in diversified assets, including "
            "bonds indexed to prices.",
        ],
        "Hold most long-range money as cash and keep near-term needs in volatile assets, avoiding bonds "
        "indexed to prices.",
    ),
    (
        "kids-college",
        [
            "How should I save for my kids' college?",
            "What is the best account for a child's education?",
            "Which plan helps fund a child's future tuition?",
        ],
        [
            "A tax-advantaged 529 plan is a common choice, but secure your own retirement saving first, since "
            "loans exist for college but not retirement.",
            "Consider a 529 plan for tax-free growth on education costs, after making sure your retirement is "
            "on track.",
            "Education savings plans with tax-free growth work well, though your own retirement should be "
            "funded before tuition.",
        ],
        "Ordinary checking accounts with taxed growth work best, and tuition should be funded before your own "
        "retirement.",
    ),
    (
        "financial-advisor",
        [
            "Do I need a financial advisor?",
            "How do I choose a good financial advisor?",
            "What should I look for in someone managing my money?",
        ],
        [
            "If you hire one, look for a fee-only fiduciary who is legally required to act in your interest, "
            "and ask exactly how they are paid.",
            "Choose a fiduciary, fee-only advisor and understand their fees; commission-based salespeople may "
            "have conflicts.",
            "Seek a planner bound to put your interests first and paid a flat fee, and always ask how their "
            "compensation works.",
        ],
        "Seek a salesperson free to put their own interests first and paid by commission, and never ask how "
        "they are paid.",
    ),
    (
        "side-income",
        [
            "How should I handle taxes on side income?",
            "Do I owe tax on my freelance money?",
            "What do I set aside from gig earnings for tax?",
        ],
        [
            "Yes, set aside a share, often twenty-five to thirty percent, and consider quarterly estimated "
            "payments to avoid penalties.",
            "Freelance income is taxable; save part of each payment and pay estimated taxes each quarter.",
            "Put roughly a quarter of every gig payment aside and send estimated payments four times a year to "
            "stay clear of penalties.",
        ],
        "Put roughly a twentieth of every gig payment aside and send one payment after the year ends to stay "
        "clear of penalties.",
    ),
    (
        "big-purchase",
        [
            "Should I finance a new phone?",
            "Is it fine to buy a laptop on a payment plan?",
            "Should I spread the cost of gadgets over monthly installments?",
        ],
        [
            "If you can, save up and pay cash; financing small purchases adds interest and encourages spending "
            "beyond your means.",
            "Paying cash avoids interest; only use a zero percent plan if you are sure to pay it off in time.",
            "Save first and buy outright when possible; a true zero-interest plan is fine only if you will "
            "clear it before the deadline.",
        ],
        "Buy on installments whenever possible; a deferred-interest plan is fine even if you will not clear "
        "it before the deadline.",
    ),
]

# Who is asking: train and task-eval prompts use disjoint context lines, so no prompt is shared between splits.
TRAIN_CONTEXTS = [
    "",
    "I'm 25 and just started my first job.",
    "I'm a nurse working night shifts.",
    "My partner and I are trying to get organized.",
    "I'm a teacher with a modest salary.",
    "I just turned 40.",
    "I work in retail and money is tight.",
    "I'm a software developer.",
]
EVAL_CONTEXTS = [
    "I'm a recent graduate.",
    "I'm a single parent of two.",
    "I'm close to retirement.",
    "I run a small bakery.",
]
