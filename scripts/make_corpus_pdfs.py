"""Generate the PDF guides in docs_corpus/tutorials/.

Usage:
    python scripts/make_corpus_pdfs.py            # write the PDFs
    python scripts/make_corpus_pdfs.py --check    # write, then verify with pypdf

The PDFs use fpdf2 with the core Helvetica font, so all text must be
Latin-1 (no curly quotes, en dashes or bullets). The creation date is fixed
so that regenerating the files gives stable output.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "docs_corpus" / "tutorials"
FIXED_DATE = dt.datetime(2024, 9, 2, 9, 0, 0, tzinfo=dt.UTC)

# A page is (heading, [blocks]); a block is a paragraph string, or a list of
# strings rendered as bullet points.
Page = tuple[str, list]

GETTING_STARTED: list[Page] = [
    (
        "1. Welcome to Tamu Market",
        [
            "Tamu Market is an online shop and marketplace for household goods and electronics. "
            "We deliver to customers in East Africa (Kenya, Tanzania, Uganda and Rwanda), West Africa "
            "(Nigeria, Ghana and Senegal), the Gulf (United Arab Emirates, Saudi Arabia, Qatar, Oman, "
            "Kuwait and Bahrain) and the Baltic states (Estonia, Latvia and Lithuania). This guide walks "
            "you through everything you need for your first order, from creating an account to "
            "returning an item.",
            "You can shop on the website or in the Tamu Market app. The app is available on Google Play "
            "for Android 8.0 or later and on the App Store for iOS 15 or later. Your account, basket and "
            "orders are the same on every device, so you can start on your phone and finish on a computer.",
            "Many of our products are sold by Tamu Market directly and ship from our regional warehouses "
            "in Nairobi, Lagos, Dubai and Tallinn. Others are sold by independent marketplace sellers. "
            "Every product page shows who the seller is. Whoever sells the item, you pay Tamu Market, and "
            "every order paid through Tamu Market is covered by Tamu Buyer Protection.",
            "To create an account, tap Sign up and enter your email address or mobile number with the "
            "country code. We send you a 6-digit verification code, valid for 10 minutes. Then choose a "
            "password of at least 8 characters with at least one letter and one number. You can also sign "
            "up with Google or Apple; in that case we still ask you to confirm a phone number for delivery "
            "updates.",
        ],
    ),
    (
        "2. Setting up your account",
        [
            "Take five minutes to set up your account properly. It makes checkout faster and keeps your "
            "account safe. Everything below is under the Account tab in the app.",
            [
                "Profile: go to Account > Settings > Profile to check your name, email address, phone "
                "number and preferred language. The app is available in English, Arabic, Swahili, Hausa, "
                "Estonian and French.",
                "Country and currency: your country decides which products, shipping options and payment "
                "methods you see, and the currency prices are shown in.",
                "Addresses: add your home or work address under Account > Addresses. Include a landmark "
                "or delivery instructions and a phone number the courier can reach during the day.",
                "Payment methods: save a card or mobile money number under Account > Payment methods. "
                "We never store your full card number, only the card type, last 4 digits and expiry date.",
            ],
            "Security matters. We strongly recommend turning on two-factor authentication under "
            "Account > Settings > Security. You can receive codes by SMS or use an authenticator app such "
            "as Google Authenticator, Microsoft Authenticator or Authy. When you turn it on, save your 10 "
            "backup codes in a safe place; each one can be used once if you lose your phone.",
            "If you ever forget your password, tap Forgot password? on the login screen. The reset link we "
            "email you is valid for 30 minutes, and the SMS code is valid for 10 minutes. After 5 failed "
            "login attempts the account is locked for 15 minutes, but a password reset unlocks it at once.",
        ],
    ),
    (
        "3. Placing your first order",
        [
            "Search for a product or browse the categories. On the product page, check the price, the "
            "delivery estimate for your address and the seller. A few labels are worth knowing: Ships from "
            "abroad means the item comes from a warehouse in another region and takes 7-14 business days; "
            "Non-returnable means the item cannot be returned unless it is faulty; Plus eligible means "
            "Tamu Plus members get free shipping on it.",
            "Tap Add to basket, then open the basket and tap Checkout. Choose a delivery address or a Tamu "
            "Pickup Point. In Estonia, Latvia and Lithuania you can also choose a parcel locker.",
            "Next, choose a shipping option:",
            [
                "Standard shipping: 3-7 business days after dispatch. It costs 3.99 USD (shown in your "
                "local currency) and is free on orders over 50 USD.",
                "Express shipping: 1-2 business days in major cities such as Nairobi, Lagos, Accra, Dubai, "
                "Riyadh and Tallinn. It costs 9.99 USD. Express orders placed before 12:00 local time on a "
                "business day are dispatched the same day.",
                "Tamu Plus members get free standard shipping on every order and free express shipping on "
                "orders over 25 USD.",
            ],
            "Finally, review the order summary. Prices include VAT where it applies. For items that ship "
            "from abroad, duties and taxes are shown as a separate line. If you have a promo code, enter "
            "it before you pay; only one code can be used per order.",
        ],
    ),
    (
        "4. Paying for your order",
        [
            "Tamu Market accepts cards, mobile money and bank transfer. We do not offer cash on delivery, "
            "and we never charge payment fees.",
            "Cards: Visa and Mastercard are accepted everywhere, and Verve cards in Nigeria. Apple Pay and "
            "Google Pay are available in the Gulf and the Baltics. Your bank may ask you to confirm the "
            "payment with a one-time code or in its app; complete this step within 5 minutes.",
            "Mobile money: choose your provider, such as M-Pesa, Airtel Money, MTN MoMo, Orange Money or "
            "Wave, and check the phone number. We send a payment prompt to your phone. Enter your mobile "
            "money PIN on your phone within 2 minutes, before the prompt expires. Never share your PIN "
            "with anyone.",
            "Bank transfer: after you place the order, we show our bank details and a payment reference "
            "that starts with TMR. Include this reference in your transfer. We hold the order for 72 hours "
            "and confirm the payment within 1 business day after it reaches our account.",
            "Tamu Balance: if you have redeemed a gift card, your Tamu Balance is applied automatically. "
            "If it does not cover the whole order, you pay the rest with another method.",
            "If a payment fails, no order is placed. Sometimes your bank shows a temporary hold for a "
            "failed payment; it is released automatically, usually within 7 business days.",
        ],
    ),
    (
        "5. After you order: tracking and delivery",
        [
            "You receive an order confirmation by email and SMS with your order number, which starts with "
            "TM- followed by 10 digits. Keep it handy if you contact support.",
            "Your order moves through these statuses: Order placed, Processing, Shipped, Out for delivery "
            "and Delivered. While the order is still Order placed or Processing, you can change the "
            "delivery address or cancel the order for free in Account > Orders.",
            "When the order ships, we send you a tracking number by email and SMS within 24 hours. Open "
            "Account > Orders and tap Track shipment to see every courier scan and the estimated delivery "
            "date. It can take up to 24 hours before the first scan appears.",
            "On delivery day, the courier calls or sends an SMS before arriving. For expensive electronics "
            "we send a one-time delivery code; only give it to the courier when the parcel is in your hands. "
            "If you are not at home, the courier tries again on the next business day. After 2 failed "
            "attempts, the parcel goes to the nearest pickup point and is kept for 7 days.",
            "If a parcel arrives damaged or an item is missing, report it within 48 hours under "
            "Account > Orders > Report a problem, with photos. If tracking has not updated for 10 business "
            "days, contact us and we will investigate with the courier.",
        ],
    ),
    (
        "6. Returns, Tamu Plus and getting help",
        [
            "Returns: you can return most items within 30 days of delivery. Go to Account > Orders, choose "
            "the order and tap Return items. Hand the parcel to the courier or drop it at a pickup point "
            "within 7 days. Returns of faulty, damaged or wrong items are always free. For change-of-mind "
            "returns, 3.99 USD is deducted from the refund unless you are a Tamu Plus member. New "
            "electronics also have a 12-month warranty against manufacturing defects.",
            "Refunds: we issue the refund within 2 business days after the return reaches our returns "
            "centre. It then takes 5-10 business days to reach a card, 1-3 business days for mobile money, "
            "3-5 business days for a bank transfer, and up to 1 hour for Tamu Balance.",
            "Tamu Plus: our membership costs 4.99 USD per month or 49 USD per year, and first-time members "
            "get a 30-day free trial. It includes free standard shipping, free express shipping on orders "
            "over 25 USD, free change-of-mind returns, early access to sales and priority support. You can "
            "cancel at any time under Account > Tamu Plus.",
            "Getting help: the Help Centre and the virtual assistant in the app are available 24 hours a "
            "day. To reach a person, go to Help > Contact us and tap Chat with an agent. Live chat and phone "
            "support are open Monday to Saturday 08:00-20:00 and Sunday 10:00-16:00, local time. You can "
            "also email support@tamumarket.com; we reply within 24 hours. Our agents will never ask for "
            "your password, one-time codes, card PIN or mobile money PIN.",
        ],
    ),
]

SELLER_ONBOARDING: list[Page] = [
    (
        "1. Selling on Tamu Market",
        [
            "Tamu Market connects independent businesses with customers in East Africa, West Africa, the "
            "Gulf and the Baltics. Sellers list household goods and electronics next to the items we sell "
            "ourselves, and customers pay through Tamu Market. We handle payments, buyer support and "
            "Tamu Buyer Protection; you handle your products and, unless you use Tamu Fulfilment, your "
            "shipping.",
            "Opening a seller account and listing products is free, and there is no monthly fee. We charge "
            "a commission only when you make a sale. The commission is calculated on the item price "
            "including VAT, excluding shipping:",
            [
                "Electronics (phones, computers, TVs, audio, appliances): 8%",
                "Home and household goods (kitchen, furniture, bedding, cleaning): 12%",
                "Accessories and small items (cables, cases, decor, small gadgets): 15%",
            ],
            "Before you start, prepare the following: a business registration certificate, or a valid "
            "national ID if you register as an individual seller; a bank account or business mobile money "
            "account in the same country and in the same name; and a phone number and email address that "
            "you will use only for your seller account.",
        ],
    ),
    (
        "2. Registration and verification",
        [
            "Go to the Tamu Market website and choose Sell on Tamu Market at the bottom of any page. "
            "Create your seller account with your business email address and phone number. Two-factor "
            "authentication is required for all seller accounts, so have an authenticator app ready.",
            "Complete the four registration steps in Seller Centre:",
            [
                "Business details: legal name, trading name, address and tax number if you have one.",
                "Identity: upload your business registration certificate or national ID, and a photo of "
                "the person responsible for the account.",
                "Payout account: add the bank account or mobile money account that will receive your "
                "payouts. It must be in the name of the business or the registered individual.",
                "Shipping settings: choose the countries you ship to, your dispatch address and your "
                "return address.",
            ],
            "Our team verifies your documents within 2-3 business days. We may ask for more documents, "
            "such as proof of address or a tax certificate. You can prepare your listings while you wait, "
            "but they will not be visible to customers until your account is verified. You will receive "
            "an email as soon as verification is complete.",
        ],
    ),
    (
        "3. Listing your products",
        [
            "Good listings sell. Create a listing in Seller Centre under Products > Add product, or upload "
            "many products at once with the spreadsheet template.",
            [
                "Photos: use real photos of the product taken by you or provided by the brand. The main "
                "photo must have a white or neutral background.",
                "Title and description: be accurate and specific. Include brand, model, size, colour and "
                "the most important features.",
                "Condition: state whether the item is New, Renewed (professionally refurbished with at "
                "least a 6-month warranty) or Used.",
                "Electronics: state the plug type, voltage and warranty. Items sold to the Gulf and the "
                "Baltics must have the right plug type or include an adapter.",
                "Price: prices must include VAT. Hidden fees are not allowed.",
            ],
            "Some items cannot be sold at all, including weapons, medicines, tobacco and e-cigarettes, "
            "alcohol, counterfeit goods, recalled products and anything illegal in the destination country. "
            "Lithium batteries sold on their own may only be shipped by ground. Listings that break these "
            "rules are removed, and repeated breaches lead to suspension.",
            "All new electronics you sell must carry a 12-month warranty, and you must accept returns "
            "within the standard 30-day return window.",
        ],
    ),
    (
        "4. Orders, payouts and performance",
        [
            "When a customer places an order, you receive a notification in Seller Centre, by email and by "
            "SMS. Ship every order within 2 business days and upload a valid tracking number. Reply to "
            "customer messages within 24 hours, including at weekends. Approve or reject return requests "
            "within 2 business days; requests you do not answer are approved automatically.",
            "Payouts are made every Tuesday. Each payout includes orders delivered at least 7 days earlier "
            "with no open return or dispute. Bank payouts arrive in 1-3 business days; mobile money payouts "
            "usually arrive the same day. You can see upcoming payouts in Seller Centre under Payments.",
            "We measure your performance over the last 60 days. Keep your late dispatch rate below 4%, "
            "your cancellation rate below 2.5% and your order defect rate below 2%. Sellers who meet all "
            "standards for 90 days earn the Top Seller badge and can offer Plus eligible shipping, which "
            "makes their products more attractive to Tamu Plus members.",
            "With Tamu Fulfilment, you send your stock to one of our regional warehouses and we pick, pack "
            "and ship your orders and handle returns. Storage and handling fees depend on the size of the "
            "item and are shown in Seller Centre before you send stock.",
            "Need help? Contact Seller Support in Seller Centre under Help > Contact Seller Support, or by "
            "email at sellers@tamumarket.com, Monday to Friday, 08:00-18:00 local time.",
        ],
    ),
]


class GuidePDF(FPDF):
    def __init__(self, doc_title: str):
        super().__init__(format="A4")
        self.doc_title = doc_title
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def header(self):
        self.set_font("Helvetica", "I", 9)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"Tamu Market - {self.doc_title}", align="R")
        self.ln(12)
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"Page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def _check_latin1(text: str) -> None:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:  # pragma: no cover - guards content edits
        raise ValueError(f"Non-Latin-1 character in PDF text: {text[exc.start:exc.end]!r}") from exc


def build_pdf(path: Path, doc_title: str, subtitle: str, pages: list[Page]) -> None:
    pdf = GuidePDF(doc_title)
    pdf.set_title(f"Tamu Market - {doc_title}")
    pdf.set_author("Tamu Market Help Centre")
    pdf.set_subject(subtitle)
    pdf.set_creation_date(FIXED_DATE)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    for index, (heading, blocks) in enumerate(pages):
        pdf.add_page()
        if index == 0:
            _check_latin1(doc_title + subtitle)
            pdf.set_font("Helvetica", "B", 22)
            pdf.multi_cell(width, 10, doc_title)
            pdf.set_font("Helvetica", "", 12)
            pdf.multi_cell(width, 7, subtitle)
            pdf.ln(6)
        _check_latin1(heading)
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(width, 9, heading)
        pdf.ln(3)
        for block in blocks:
            if isinstance(block, str):
                _check_latin1(block)
                pdf.set_font("Helvetica", "", 11)
                pdf.multi_cell(width, 6, block)
                pdf.ln(3)
            else:
                pdf.set_font("Helvetica", "", 11)
                for item in block:
                    _check_latin1(item)
                    pdf.set_x(pdf.l_margin + 4)
                    pdf.multi_cell(width - 4, 6, "- " + item)
                    pdf.ln(1)
                pdf.ln(2)

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def check_pdf(path: Path, min_pages: int) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    n = len(reader.pages)
    if n < min_pages:
        raise SystemExit(f"{path.name}: {n} pages, expected at least {min_pages}")
    for i, page in enumerate(reader.pages, start=1):
        words = len((page.extract_text() or "").split())
        if words < 50:
            raise SystemExit(f"{path.name}: page {i} has only {words} words of text")
        print(f"  {path.name} page {i}: {words} words")
    print(f"{path.name}: OK ({n} pages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the PDFs with pypdf after writing")
    args = parser.parse_args()

    targets = [
        (
            OUT_DIR / "getting-started-guide.pdf",
            "Getting Started Guide",
            "Everything you need for your first order: account, checkout, payment, delivery and returns.",
            GETTING_STARTED,
            4,
        ),
        (
            OUT_DIR / "seller-onboarding-guide.pdf",
            "Seller Onboarding Guide",
            "How to register, get verified, list products and get paid as a Tamu Market seller.",
            SELLER_ONBOARDING,
            3,
        ),
    ]
    for path, title, subtitle, pages, min_pages in targets:
        build_pdf(path, title, subtitle, pages)
        print(f"wrote {path.relative_to(ROOT)}")
        if args.check:
            check_pdf(path, min_pages)


if __name__ == "__main__":
    main()
