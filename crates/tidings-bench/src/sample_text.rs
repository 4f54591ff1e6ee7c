//! Phrase banks for `tidings-sample`: the people, places and sentences the synthetic feedback is
//! composed from. The business is a small coffee roaster with two cafés, an online store, a mobile
//! app and subscriptions. Placeholders in braces (`{item}`, `{staff}`, `{n}`, `{mins}`, `{day}`,
//! `{order}`, `{tool}`) are filled in by the generator.

/// Sentiment of a piece of feedback, as the `Sentiment` column spells it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mood {
    Positive,
    Neutral,
    Negative,
}

impl Mood {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Mood::Positive => "positive",
            Mood::Neutral => "neutral",
            Mood::Negative => "negative",
        }
    }
}

/// Sentences for one mood.
pub(crate) struct Lines {
    pub(crate) positive: &'static [&'static str],
    pub(crate) neutral: &'static [&'static str],
    pub(crate) negative: &'static [&'static str],
}

impl Lines {
    pub(crate) fn of(&self, mood: Mood) -> &'static [&'static str] {
        match mood {
            Mood::Positive => self.positive,
            Mood::Neutral => self.neutral,
            Mood::Negative => self.negative,
        }
    }
}

/// One thing feedback is about: what dashboards group by (`Tool`).
pub(crate) struct Tool {
    pub(crate) name: &'static str,
    pub(crate) weight: u32,
    /// Multipliers (percent) on the base rating weights for 1..=5 stars.
    pub(crate) rating_tilt: [u32; 5],
    /// Channel weights in the order of [`CHANNELS`].
    pub(crate) channels: [u32; 7],
    /// Percent of records that carry an order value.
    pub(crate) value_percent: u32,
    pub(crate) titles: Lines,
    pub(crate) core: Lines,
    pub(crate) detail: Lines,
    pub(crate) requests: &'static [&'static str],
    pub(crate) tags: &'static [&'static str],
}

pub(crate) const CHANNELS: [&str; 7] = [
    "email",
    "chat",
    "survey",
    "app store",
    "phone",
    "social",
    "in-person",
];

pub(crate) const TOOLS: &[Tool] = &[
    Tool {
        name: "Mobile App",
        weight: 16,
        rating_tilt: [110, 100, 100, 100, 95],
        channels: [12, 10, 14, 40, 3, 10, 1],
        value_percent: 70,
        titles: Lines {
            positive: &[
                "Love the app",
                "Ordering ahead is a game changer",
                "Smooth app, great update",
                "Best coffee app I've used",
                "Mobile order ready on time",
                "Dark mode!",
            ],
            neutral: &[
                "App is fine",
                "Question about the app",
                "Notifications setting",
                "Where did the favourites go?",
                "App works but a bit slow",
            ],
            negative: &[
                "App keeps crashing",
                "Can't log in",
                "Order stuck on 'preparing'",
                "Update broke everything",
                "App logged me out again",
                "Payment screen freezes",
            ],
        },
        core: Lines {
            positive: &[
                "The app makes ordering ahead so easy, my {item} is waiting when I walk in.",
                "Really like the new app update, reordering my usual takes two taps.",
                "Mobile order was ready exactly when the app said it would be.",
                "The app is fast, clean and it remembers my oat milk preference.",
                "I use the app every morning and it has not let me down once.",
            ],
            neutral: &[
                "The app works, but it takes a while to load the menu in the morning.",
                "I can't find where to change my default café in the app.",
                "The app asks for my location every single time I open it.",
                "Is there a way to save more than one favourite order in the app?",
                "Push notifications arrive about {mins} minutes after the order is ready.",
            ],
            negative: &[
                "The app crashes as soon as I open the cart.",
                "I have been logged out of the app {n} times this week and the reset email never arrives.",
                "My order sat on 'preparing' in the app for {mins} minutes and the café had never received it.",
                "Since the last update the app freezes on the payment screen.",
                "The app charged my card but the order never showed up at the counter.",
            ],
        },
        detail: Lines {
            positive: &[
                "The loyalty stamps show up right away now too.",
                "Checkout with Apple Pay is instant.",
                "Whoever designed the new menu layout did a great job.",
                "It even shows when the {item} is sold out, which saves me a trip.",
            ],
            neutral: &[
                "I'm on the latest version, on a {n}-year-old phone.",
                "Not a big deal, just something I noticed.",
                "Maybe this is already on your list.",
            ],
            negative: &[
                "I reinstalled it twice and cleared the cache, nothing helps.",
                "Order {order}, if that helps you find it.",
                "I ended up ordering at the counter and waiting in line anyway.",
                "My partner has the same problem on a different phone.",
                "The error just says 'Something went wrong' with no code.",
            ],
        },
        requests: &[
            "Please add a widget for the home screen.",
            "A way to schedule a pickup for later in the day would be great.",
            "Could you add Google Pay?",
            "Please let me tip in the app.",
            "It would help to see the café's wait time before ordering.",
        ],
        tags: &[
            "mobile",
            "bug",
            "login",
            "performance",
            "ux",
            "feature request",
        ],
    },
    Tool {
        name: "Online Store",
        weight: 15,
        rating_tilt: [90, 100, 110, 105, 100],
        channels: [40, 22, 20, 0, 6, 10, 2],
        value_percent: 92,
        titles: Lines {
            positive: &[
                "Great beans, fast order",
                "Easy to find what I wanted",
                "Fantastic Ethiopia Yirgacheffe",
                "New grinder arrived well packed",
                "Lovely website",
            ],
            neutral: &[
                "Question about grind size",
                "Product page missing roast date",
                "Bag size options",
                "Search didn't find decaf",
                "Stock question",
            ],
            negative: &[
                "Wrong beans sent",
                "Website keeps emptying my cart",
                "Out of stock after I paid",
                "Prices went up again?",
                "Search is useless",
            ],
        },
        core: Lines {
            positive: &[
                "Ordered the {item} from the website and it's the best I've had this year.",
                "The online store is easy to browse and the tasting notes are spot on.",
                "Found exactly the beans I wanted in under a minute.",
                "The brewing guides on the product pages are genuinely helpful.",
            ],
            neutral: &[
                "Could the product pages show the roast date before I buy?",
                "I wanted the {item} in a 1 kg bag but only 250 g is listed.",
                "Searching for 'decaf' shows tea towels before coffee.",
                "The filter for 'espresso' vs 'filter' roast would be handy.",
            ],
            negative: &[
                "I ordered the {item} and received a completely different coffee.",
                "The cart empties itself every time I switch between pages.",
                "I paid for the {item}, then got an email saying it was out of stock.",
                "The website says 'free shipping over $40' but charged me shipping on a $52 order.",
            ],
        },
        detail: Lines {
            positive: &[
                "Will definitely order again.",
                "Bought a second bag for my sister.",
                "The sample sachet was a nice touch.",
            ],
            neutral: &[
                "I usually brew with an AeroPress, if that matters.",
                "Just trying to plan my next order.",
                "I checked the FAQ first but couldn't find it.",
            ],
            negative: &[
                "This is the second time something like this has happened.",
                "Order number {order}.",
                "I'd like a refund or the right coffee, whichever is quicker.",
                "Nobody has answered my email from {day}.",
            ],
        },
        requests: &[
            "Please add a 'notify me when back in stock' button.",
            "Let me save my grind preference to my account.",
            "A wishlist would be nice.",
            "Show the roast date on the product page please.",
        ],
        tags: &[
            "website",
            "product",
            "pricing",
            "ux",
            "feature request",
            "search",
        ],
    },
    Tool {
        name: "Checkout",
        weight: 9,
        rating_tilt: [140, 120, 100, 95, 85],
        channels: [38, 30, 10, 2, 10, 10, 0],
        value_percent: 95,
        titles: Lines {
            positive: &[
                "Super quick checkout",
                "Checkout was painless",
                "Love the one-click reorder",
            ],
            neutral: &[
                "Promo code field",
                "Billing address question",
                "Which cards do you accept?",
            ],
            negative: &[
                "Payment failed",
                "Charged twice",
                "Promo code not working",
                "Checkout error",
                "Card declined but money taken",
            ],
        },
        core: Lines {
            positive: &[
                "Checkout took less than a minute, and the saved card worked perfectly.",
                "One-click reorder at checkout is exactly what I needed.",
                "Paying with PayPal was quick and the confirmation email came instantly.",
            ],
            neutral: &[
                "The promo code field is hidden below the fold, I almost missed it.",
                "Can I use a different billing address from my shipping address?",
                "Checkout asks for my phone number, why is that needed?",
            ],
            negative: &[
                "My card was declined at checkout but the charge still shows on my statement.",
                "I was charged twice for the same order.",
                "The promo code from your newsletter says 'invalid' at checkout.",
                "Checkout just spins forever after I click 'Pay'.",
            ],
        },
        detail: Lines {
            positive: &["No surprises with shipping costs either.", "Nice work."],
            neutral: &["Just curious.", "Not urgent."],
            negative: &[
                "I tried {n} times with two different cards.",
                "Please refund the duplicate charge.",
                "Screenshot of the error is attached.",
                "My bank says the payment went through on your side.",
            ],
        },
        requests: &[
            "Please add Apple Pay on the website too.",
            "Show the total including tax before the last step.",
            "Let me pay with a gift card and a credit card together.",
        ],
        tags: &["checkout", "billing", "bug", "refund", "pricing"],
    },
    Tool {
        name: "Subscriptions",
        weight: 11,
        rating_tilt: [100, 110, 100, 100, 100],
        channels: [45, 20, 20, 0, 8, 5, 2],
        value_percent: 85,
        titles: Lines {
            positive: &[
                "Subscription is the best thing",
                "Love the monthly surprise",
                "Skipping a month was easy",
                "Roaster's choice never misses",
            ],
            neutral: &[
                "How do I pause my subscription?",
                "Change delivery day",
                "Subscription frequency",
                "Swap coffee in subscription",
            ],
            negative: &[
                "Can't cancel subscription",
                "Charged after cancelling",
                "Subscription box never came",
                "Same coffee three months in a row",
            ],
        },
        core: Lines {
            positive: &[
                "My subscription arrives like clockwork and the roaster's choice is always interesting.",
                "I skipped a month while travelling and it took ten seconds.",
                "The {item} in this month's box was outstanding.",
            ],
            neutral: &[
                "I'd like to move my subscription delivery from Monday to Thursday.",
                "Is there a way to get the subscription every three weeks instead of every four?",
                "How do I swap this month's coffee for decaf?",
            ],
            negative: &[
                "I cancelled my subscription on {day} and was charged again anyway.",
                "There is no cancel button anywhere in my account, only 'pause'.",
                "This month's subscription box never arrived and tracking hasn't updated in a week.",
                "I've received the {item} three months in a row despite choosing 'variety'.",
            ],
        },
        detail: Lines {
            positive: &[
                "Recommended it to two colleagues already.",
                "The tasting card in the box is lovely.",
            ],
            neutral: &[
                "My account email is the one I'm writing from.",
                "Thanks in advance.",
            ],
            negative: &[
                "I want the last charge refunded.",
                "This feels like a dark pattern, honestly.",
                "I've been a subscriber for {n} years and this is disappointing.",
            ],
        },
        requests: &[
            "Please add a clear cancel button.",
            "Let me choose the delivery day.",
            "A 'never send me this coffee again' option would be great.",
        ],
        tags: &[
            "subscription",
            "billing",
            "refund",
            "shipping",
            "feature request",
        ],
    },
    Tool {
        name: "Delivery",
        weight: 12,
        rating_tilt: [150, 130, 110, 90, 80],
        channels: [40, 25, 15, 0, 10, 10, 0],
        value_percent: 80,
        titles: Lines {
            positive: &[
                "Arrived a day early",
                "Fast shipping",
                "Beautifully packed",
                "Delivered in the rain, still perfect",
            ],
            neutral: &[
                "Tracking number?",
                "Delivery window question",
                "Can you ship to a PO box?",
                "Shipping to Canada",
            ],
            negative: &[
                "Package never arrived",
                "Late again",
                "Box crushed",
                "Delivered to the wrong address",
                "Tracking not updating",
            ],
        },
        core: Lines {
            positive: &[
                "My order arrived a day earlier than promised and the beans were roasted that week.",
                "Shipping was fast and the box was packed with care.",
                "The courier even left it out of the rain, nice touch.",
            ],
            neutral: &[
                "Could you send the tracking number? The confirmation email didn't have one.",
                "Do you ship to PO boxes?",
                "The delivery window says 8am to 8pm, is there a way to narrow that down?",
            ],
            negative: &[
                "My package was marked delivered but it is not here, not with neighbours, nowhere.",
                "The delivery was {n} days late and the coffee was already stale by the time it arrived.",
                "The box arrived crushed and half the {item} was on the floor of the box.",
                "Tracking has said 'label created' for {n} days.",
            ],
        },
        detail: Lines {
            positive: &["Thank you!", "Impressive for a small company."],
            neutral: &["No rush.", "I'm usually home after 5pm."],
            negative: &[
                "I paid for express shipping.",
                "It was meant to be a birthday present.",
                "Order {order}.",
                "The courier's phone line just hangs up.",
            ],
        },
        requests: &[
            "Please offer a different courier.",
            "Let me pick a safe place for the parcel.",
            "Send a text when the parcel is out for delivery.",
        ],
        tags: &["shipping", "delivery", "refund", "packaging"],
    },
    Tool {
        name: "Harbor St Café",
        weight: 10,
        rating_tilt: [60, 80, 100, 110, 120],
        channels: [10, 2, 30, 0, 8, 20, 30],
        value_percent: 60,
        titles: Lines {
            positive: &[
                "Best flat white in town",
                "{staff} made my day",
                "Cozy spot to work",
                "Great pastries",
                "Lovely staff",
            ],
            neutral: &[
                "Opening hours",
                "Wi-Fi password",
                "Seating on weekends",
                "Music a bit loud",
            ],
            negative: &[
                "Waited 25 minutes",
                "Rude service",
                "Cold coffee",
                "Tables were dirty",
                "Wrong order twice",
            ],
        },
        core: Lines {
            positive: &[
                "{staff} at Harbor St remembered my order after two visits, that's service.",
                "The {item} at Harbor St is the best I've had in the city.",
                "Harbor St is my favourite place to work on a rainy afternoon.",
                "The almond croissants at Harbor St are worth the trip alone.",
            ],
            neutral: &[
                "Could Harbor St open at 6:30 instead of 7 on weekdays?",
                "The music at Harbor St is a bit loud for working.",
                "It's hard to find a seat at Harbor St on weekends.",
            ],
            negative: &[
                "I waited {mins} minutes for a single {item} at Harbor St on {day}.",
                "The barista at Harbor St was short with me when I asked about oat milk.",
                "My {item} at Harbor St was lukewarm and tasted burnt.",
                "The tables and the milk station at Harbor St were a mess.",
            ],
        },
        detail: Lines {
            positive: &[
                "The new seasonal menu is great.",
                "Cheers to the whole morning crew.",
                "My dog got a treat too 🐶",
            ],
            neutral: &["Otherwise all good.", "I go there most mornings."],
            negative: &[
                "There were only two people working and a line out the door.",
                "I've been a regular for {n} years and this was not the usual standard.",
                "Nobody apologised.",
            ],
        },
        requests: &[
            "Please add more power outlets.",
            "More oat milk options please.",
            "Bring back the cinnamon bun!",
        ],
        tags: &["café", "staff", "quality", "wait time", "praise"],
    },
    Tool {
        name: "Pine Market Café",
        weight: 7,
        rating_tilt: [70, 90, 100, 110, 115],
        channels: [10, 2, 30, 0, 8, 20, 30],
        value_percent: 60,
        titles: Lines {
            positive: &[
                "Pine Market gem",
                "Great cold brew",
                "Friendly team at Pine Market",
            ],
            neutral: &["Parking near Pine Market", "Card only?", "Kids menu"],
            negative: &[
                "Ran out of milk",
                "Closed early without notice",
                "Overpriced pastries",
            ],
        },
        core: Lines {
            positive: &[
                "The cold brew at Pine Market is perfect on a hot day.",
                "Pine Market's team is always friendly, even when it's packed.",
                "Sat outside at Pine Market with a {item}, perfect Saturday.",
            ],
            neutral: &[
                "Is Pine Market card only now? I had cash and felt awkward.",
                "Parking near Pine Market is tricky, any tips?",
                "Does Pine Market have anything for kids?",
            ],
            negative: &[
                "Pine Market ran out of milk at 10am on a {day}.",
                "Pine Market closed an hour early with no notice on the door or online.",
                "$7 for a small pastry at Pine Market is too much.",
            ],
        },
        detail: Lines {
            positive: &["Keep it up!", "Love the plants inside."],
            neutral: &["Thanks.", "Just wondering."],
            negative: &["Disappointed.", "I walked there for nothing."],
        },
        requests: &[
            "Please post opening hours changes on Instagram.",
            "Maybe add a second grinder for decaf?",
        ],
        tags: &["café", "staff", "pricing", "quality", "hours"],
    },
    Tool {
        name: "Customer Support",
        weight: 8,
        rating_tilt: [110, 100, 100, 100, 105],
        channels: [35, 30, 15, 0, 15, 5, 0],
        value_percent: 30,
        titles: Lines {
            positive: &[
                "Thanks {staff}!",
                "Support sorted it in minutes",
                "Above and beyond",
            ],
            neutral: &[
                "Follow-up on my ticket",
                "Who do I contact about wholesale?",
            ],
            negative: &[
                "No reply after a week",
                "Support closed my ticket",
                "Canned responses",
            ],
        },
        core: Lines {
            positive: &[
                "{staff} from support sorted out my order in a few minutes and was lovely about it.",
                "Support replied within the hour and sent a replacement without any fuss.",
                "I didn't expect such a personal reply from a support team, thank you.",
            ],
            neutral: &[
                "I'm following up on my ticket from {day}.",
                "Who is the right person to contact about a refund?",
                "Support answered, but I'm still not sure what happens next.",
            ],
            negative: &[
                "I emailed support {n} times over a week and got nothing back.",
                "Support closed my ticket without solving anything.",
                "Every reply from support is a copy-paste that doesn't answer my question.",
            ],
        },
        detail: Lines {
            positive: &["Give {staff} a raise.", "That's why I keep coming back."],
            neutral: &["Ticket number {order}.", "Thanks."],
            negative: &[
                "I'm about to dispute the charge with my bank.",
                "Please have a human read this.",
            ],
        },
        requests: &[
            "A live chat on weekends would help.",
            "Please send a ticket number when I write in.",
        ],
        tags: &["support", "response time", "refund", "praise"],
    },
    Tool {
        name: "Loyalty Rewards",
        weight: 6,
        rating_tilt: [100, 110, 110, 100, 95],
        channels: [25, 15, 25, 10, 5, 10, 10],
        value_percent: 40,
        titles: Lines {
            positive: &[
                "Free coffee!",
                "Love the rewards",
                "Birthday drink was sweet",
            ],
            neutral: &["How many stamps?", "Points expiry", "Merge two accounts"],
            negative: &[
                "Points disappeared",
                "Stamps not added",
                "Rewards program got worse",
            ],
        },
        core: Lines {
            positive: &[
                "Got my free drink on my birthday, such a nice surprise.",
                "The loyalty stamps add up quickly, I've had {n} free coffees this year.",
            ],
            neutral: &[
                "How many stamps do I need for a free bag of beans?",
                "Do loyalty points expire?",
                "Can I merge my old card with my app account?",
            ],
            negative: &[
                "All my loyalty points disappeared after the app update.",
                "The café didn't add my stamps for the last {n} visits.",
                "The new rewards tiers mean I need twice as many visits for the same free drink.",
            ],
        },
        detail: Lines {
            positive: &["Small things matter."],
            neutral: &["Thanks!"],
            negative: &["I had {n}0 points before.", "Feels like a bait and switch."],
        },
        requests: &[
            "Please show the points history.",
            "Let me gift points to a friend.",
        ],
        tags: &["loyalty", "bug", "pricing", "feature request"],
    },
    Tool {
        name: "Gift Cards",
        weight: 3,
        rating_tilt: [100, 100, 100, 100, 100],
        channels: [45, 20, 10, 0, 15, 5, 5],
        value_percent: 95,
        titles: Lines {
            positive: &["Perfect last-minute gift", "Gift card design is lovely"],
            neutral: &["Gift card balance", "Can I reload a gift card?"],
            negative: &["Gift card email never sent", "Gift card rejected in café"],
        },
        core: Lines {
            positive: &[
                "Sent a digital gift card to my brother, he loved it.",
                "The gift card arrived instantly and looks great.",
            ],
            neutral: &[
                "How do I check my gift card balance?",
                "Can gift cards be used in the cafés and online?",
            ],
            negative: &[
                "The recipient never got the gift card email.",
                "The café said my gift card number was invalid.",
            ],
        },
        detail: Lines {
            positive: &["Will buy more for the holidays."],
            neutral: &["Thanks."],
            negative: &["It was a present, so this is embarrassing."],
        },
        requests: &["Please allow scheduling a gift card for a date."],
        tags: &["gift cards", "billing", "bug"],
    },
    Tool {
        name: "Wholesale Portal",
        weight: 3,
        rating_tilt: [100, 110, 110, 100, 90],
        channels: [60, 10, 10, 0, 15, 0, 5],
        value_percent: 90,
        titles: Lines {
            positive: &["Reordering for the shop is easy", "Great wholesale beans"],
            neutral: &["Invoice terms", "Bulk pricing tiers"],
            negative: &["Invoice wrong", "Portal won't accept PO number"],
        },
        core: Lines {
            positive: &[
                "Reordering for our shop through the wholesale portal takes two minutes.",
                "Our customers love the {item}, we're increasing our standing order.",
            ],
            neutral: &[
                "Can we get net-30 terms on wholesale invoices?",
                "What are the pricing tiers above 20 kg?",
            ],
            negative: &[
                "The wholesale invoice had the wrong prices for the {item}.",
                "The portal won't accept our PO number, so accounting can't pay.",
            ],
        },
        detail: Lines {
            positive: &["Thanks to the whole team."],
            neutral: &["We order roughly {n}0 kg a month."],
            negative: &["We need this fixed before month end."],
        },
        requests: &["Please add CSV export of invoices."],
        tags: &["wholesale", "billing", "pricing"],
    },
];

/// Checkout outage week: the texts of the spike.
pub(crate) const OUTAGE: Lines = Lines {
    positive: &["Checkout is back, thanks for the quick update on Instagram."],
    neutral: &[
        "Is checkout working again? I'd like to place my order but don't want to be charged twice.",
        "Saw the status page, any idea when checkout will be fixed?",
    ],
    negative: &[
        "Checkout has been failing since this morning with 'Error 502 Bad Gateway'.",
        "I tried to pay {n} times and every attempt says 'payment failed', yet my bank shows {n} pending charges.",
        "Your checkout is down. Again. I just want my beans.",
        "I got charged but there's no order confirmation and no order in my account.",
        "The 'Pay' button just spins and then the page reloads with an empty cart.",
        "Checkout times out every time. Is the whole site down?",
    ],
};

pub(crate) const OUTAGE_TITLES: &[&str] = &[
    "Checkout down",
    "Error 502 at checkout",
    "Payment failed, money taken",
    "Site down?",
    "Charged {n} times, no order",
    "Can't pay",
    "Checkout broken again",
];

/// Mobile app 5.0 release: the texts of the second spike.
pub(crate) const RELEASE: Lines = Lines {
    positive: &["The 5.0 redesign looks great once it stops crashing, the new menu is much nicer."],
    neutral: &[
        "Version 5.0 moved everything around, took me a while to find my favourites.",
        "New design is ok but the order button is now hidden in a menu.",
    ],
    negative: &[
        "App crashes on launch since updating to 5.0. Unusable.",
        "Updated to 5.0 and now it won't get past the splash screen.",
        "5.0 deleted my saved cards and my favourites.",
        "Since the update every order fails with 'Unknown error'.",
        "1 star until you fix the crash on startup. Used to love this app.",
    ],
};

pub(crate) const RELEASE_TITLES: &[&str] = &[
    "Crashes after update",
    "5.0 is broken",
    "Won't open",
    "Bring back the old version",
    "Unusable since update",
];

/// Feedback so short it barely says anything.
pub(crate) const TINY: Lines = Lines {
    positive: &[
        "Love it!",
        "great",
        "Perfect, thanks",
        "Five stars ☕",
        "👍",
        "So good.",
        "Best coffee around",
        "No complaints!",
        "Amazing 😍",
    ],
    neutral: &[
        "ok",
        "fine",
        "It's alright.",
        "n/a",
        "Average.",
        "meh",
        "?",
        "As expected",
    ],
    negative: &[
        "Terrible.",
        "Fix it!!!",
        "Not happy.",
        "Worst update ever",
        "😡",
        "Never again",
        "Refund please",
        "Disappointing",
    ],
};

pub(crate) const OPENERS: Lines = Lines {
    positive: &[
        "Hi team,",
        "Just wanted to say:",
        "Hello!",
        "Quick shout-out:",
        "Long-time customer here.",
    ],
    neutral: &[
        "Hi,",
        "Hello,",
        "Quick question:",
        "Hey there,",
        "Good morning,",
    ],
    negative: &[
        "Hi,",
        "Honestly,",
        "I'm writing because I'm frustrated.",
        "Not a happy customer today.",
        "Sorry, but",
    ],
};

pub(crate) const CLOSERS: Lines = Lines {
    positive: &[
        "Thanks!",
        "Keep up the great work.",
        "Cheers,",
        "You've got a customer for life.",
        "Thank you so much!",
    ],
    neutral: &[
        "Thanks.",
        "Regards,",
        "Thanks in advance,",
        "Best,",
        "Cheers",
    ],
    negative: &[
        "Please fix this.",
        "I expect a reply.",
        "Very disappointed.",
        "Regards,",
        "Not impressed.",
    ],
};

/// A middle paragraph for long feedback: context that is not about one tool.
pub(crate) const STORY: Lines = Lines {
    positive: &[
        "I've tried most of the roasters in town over the last {n} years and you're the only one I keep going back to. The quality is consistent, the people are kind, and it never feels like a chain.",
        "For context, I run a small design studio and we go through about two bags a week. Everyone in the office has an opinion about coffee, and for once, nobody is complaining.",
        "My partner and I started our Saturday mornings with a walk to your café when we moved here, and it's become a ritual. The {item} is part of that.",
        "I was skeptical about ordering coffee online, since freshness matters so much, but the roast dates are always recent and the bags have a proper valve.",
    ],
    neutral: &[
        "For context, I've been a customer for about {n} years, mostly online but sometimes in the cafés as well.",
        "I read through the FAQ and the help pages, but couldn't find a clear answer, so I'm writing in.",
        "I'm not complaining exactly, I just think this could be smoother, and I'd rather tell you than just quietly stop using it.",
        "Some background: I order roughly every {n} weeks, usually the {item}, sometimes a second bag if there's a new single origin.",
    ],
    negative: &[
        "This is not the first time. Last month something similar happened, I wrote in, and was told it was a one-off. Now it's happened again and I'm starting to wonder whether anyone reads these.",
        "I want to be fair: I've been a loyal customer for {n} years and I've recommended you to a lot of people. That's exactly why this is so frustrating.",
        "I spent about {mins} minutes trying to sort this out myself, going back and forth between the website, the app, and my email, before giving up and writing this.",
        "To be clear, I'm not asking for anything special. I just want what I paid for, delivered when you said it would be, and a straight answer when something goes wrong.",
    ],
};

/// Extra paragraphs only the longest letters get to.
pub(crate) const ESSAY: Lines = Lines {
    positive: &[
        "I also want to mention the little things, because I think they're easy to overlook from the inside. The handwritten note in my first order. The way the barista asked how the new grinder was working out. The fact that when a bag was slightly under weight, you sent a full replacement without me even asking. None of that shows up in a spreadsheet, but it's why I tell people about you.",
        "If I had to name one thing that could be better, it would be communication around new releases: I only found out about the Kenya lot because a friend mentioned it, and by then the 250 g bags were gone. A short email or a note in the app when something limited comes in would go a long way, and I suspect I'm not the only one who'd appreciate it.",
        "Anyway, I realise this has turned into a bit of a love letter. It's rare to find a business that gets the product, the service and the atmosphere right at the same time, and I wanted someone there to hear that it's noticed and appreciated, especially in a year when a lot of small places around here have closed.",
    ],
    neutral: &[
        "To give you the full picture: most of my experience has been good, some of it very good, and a few things have been frustrating. I'm writing all of it down in one place because I suspect the frustrating bits are small fixes for you, and they're the difference between me recommending you to everyone and me just quietly ordering now and then.",
        "On the website side, the main thing is information. Roast dates, bag sizes, which coffees work for espresso and which don't, and when something will be back in stock. I end up emailing to ask, which is slower for both of us, and I'd guess it's the same for a lot of your customers who aren't coffee nerds.",
        "On the café side, honestly, very little to say except that weekends are hard. It's busy, seating is scarce and the line sometimes goes out the door. That's a good problem to have, I know, but maybe the app could show how busy it is, or there could be a separate pickup shelf for mobile orders.",
    ],
    negative: &[
        "Let me explain why this matters so much to me. I chose you specifically over the supermarket brands and the big chains because I wanted to support a local roaster and because the coffee was genuinely better. I've been paying more for that, happily. But paying more only makes sense if the basics work, and right now they don't.",
        "What made it worse was the back and forth afterwards. I was asked for my order number, which I had already given. Then for a photo, which I sent. Then I was told someone would 'look into it' and heard nothing for days. Each step on its own is reasonable, but together it felt like I was being worn down until I gave up.",
        "I'm giving you the chance to make this right before I cancel my subscription and move my office order elsewhere. A refund for the affected order and an honest explanation of what went wrong would be enough. I don't need a discount code, I need to be able to trust that this won't happen again next month.",
    ],
};

/// Steps-to-reproduce style paragraph, for the long, careful reports.
pub(crate) const STEPS: &[&str] = &[
    "What I did:\n1. Opened {tool} and signed in\n2. Added the {item} to the cart\n3. Tapped \"Pay\"\n4. Got \"Something went wrong\" and was sent back to the start",
    "Steps:\n- open {tool}\n- choose pickup at Harbor St\n- pay with saved card\n- nothing happens, the \"Place order\" button greys out",
    "Timeline, for your records:\n{day} morning — placed order {order}\n{day} evening — still \"processing\"\nNext day — emailed support, no reply",
];

/// Menu and shop items, for `{item}`.
pub(crate) const ITEMS: &[&str] = &[
    "flat white",
    "oat latte",
    "cortado",
    "cold brew",
    "Ethiopia Yirgacheffe",
    "Colombia Huila",
    "house espresso blend",
    "decaf Swiss Water",
    "chai latte",
    "cardamom bun",
    "Kenya AA",
    "Guatemala Antigua",
    "matcha latte",
    "\"Harbor Blend\"",
];

/// Staff first names, for `{staff}`.
pub(crate) const STAFF: &[&str] = &[
    "Maya", "Jonah", "Priya", "Diego", "Sam", "Aoife", "Kenji", "Fatima", "Luca", "Bea",
];

pub(crate) const WEEKDAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub(crate) const EMOJI: Lines = Lines {
    positive: &["😊", "☕", "🙏", "❤️", "🎉", "👏"],
    neutral: &["🤔", "🙂", "☕"],
    negative: &["😡", "😞", "👎", "🤬", "😤"],
};

/// Tags that any tool can carry, by mood.
pub(crate) const MOOD_TAGS: Lines = Lines {
    positive: &["praise", "quality"],
    neutral: &["question", "feature request"],
    negative: &["complaint", "urgent", "churn risk"],
};

/// A person: display name, handle for the email address, language of their non-English texts
/// (empty for English).
pub(crate) struct Person {
    pub(crate) name: &'static str,
    pub(crate) handle: &'static str,
    pub(crate) lang: &'static str,
}

pub(crate) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Emma", "emma"),
    ("Liam", "liam"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Ava", "ava"),
    ("Ethan", "ethan"),
    ("Sophia", "sophia"),
    ("Mason", "mason"),
    ("Isabella", "isabella"),
    ("Lucas", "lucas"),
    ("Mia", "mia"),
    ("James", "james"),
    ("Charlotte", "charlotte"),
    ("Benjamin", "ben"),
    ("Amelia", "amelia"),
    ("Henry", "henry"),
    ("Harper", "harper"),
    ("Daniel", "daniel"),
    ("Evelyn", "evelyn"),
    ("Michael", "michael"),
    ("Grace", "grace"),
    ("David", "david"),
    ("Chloe", "chloe"),
    ("Aiden", "aiden"),
    ("Nora", "nora"),
    ("Samuel", "sam"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("María", "maria"),
    ("Lucía", "lucia"),
    ("Andrés", "andres"),
    ("François", "francois"),
    ("Chloé", "chloe"),
    ("Amélie", "amelie"),
    ("Hélène", "helene"),
    ("Jürgen", "jurgen"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Åsa", "asa"),
    ("Björn", "bjorn"),
    ("João", "joao"),
    ("Çağla", "cagla"),
    ("Siobhán", "siobhan"),
    ("Renée", "renee"),
    ("Tyrone", "tyrone"),
    ("Keisha", "keisha"),
    ("Raj", "raj"),
    ("Ananya", "ananya"),
    ("Kwame", "kwame"),
    ("Ngozi", "ngozi"),
];

pub(crate) const LAST_NAMES: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("Miller", "miller"),
    ("Davis", "davis"),
    ("Wilson", "wilson"),
    ("Anderson", "anderson"),
    ("Taylor", "taylor"),
    ("Thomas", "thomas"),
    ("Moore", "moore"),
    ("Martin", "martin"),
    ("Lee", "lee"),
    ("Thompson", "thompson"),
    ("White", "white"),
    ("Harris", "harris"),
    ("Clark", "clark"),
    ("Lewis", "lewis"),
    ("Walker", "walker"),
    ("Hall", "hall"),
    ("Young", "young"),
    ("O'Brien", "obrien"),
    ("García", "garcia"),
    ("Rodríguez", "rodriguez"),
    ("Martínez", "martinez"),
    ("Müller", "mueller"),
    ("Núñez", "nunez"),
    ("Lefèvre", "lefevre"),
    ("Kowalski", "kowalski"),
    ("Nowak", "nowak"),
    ("Johansson", "johansson"),
    ("Nguyen", "nguyen"),
    ("Patel", "patel"),
    ("Okafor", "okafor"),
    ("Mensah", "mensah"),
    ("Rossi", "rossi"),
    ("Van der Berg", "vanderberg"),
    ("Kim", "kim"),
    ("Chen", "chen"),
];

/// Whole names in scripts that do not split into our first/last banks.
pub(crate) const WHOLE_NAMES: &[Person] = &[
    Person {
        name: "王芳",
        handle: "wang.fang",
        lang: "zh",
    },
    Person {
        name: "李伟",
        handle: "li.wei",
        lang: "zh",
    },
    Person {
        name: "张敏",
        handle: "zhangmin",
        lang: "zh",
    },
    Person {
        name: "佐藤 健",
        handle: "ken.sato",
        lang: "ja",
    },
    Person {
        name: "鈴木 美咲",
        handle: "misaki.s",
        lang: "ja",
    },
    Person {
        name: "김민준",
        handle: "minjun.kim",
        lang: "ko",
    },
    Person {
        name: "이서연",
        handle: "seoyeon.lee",
        lang: "ko",
    },
    Person {
        name: "محمد الأحمد",
        handle: "m.alahmad",
        lang: "ar",
    },
    Person {
        name: "نور حداد",
        handle: "nour.haddad",
        lang: "ar",
    },
    Person {
        name: "נועה כהן",
        handle: "noa.cohen",
        lang: "he",
    },
    Person {
        name: "Nguyễn Thị Hoa",
        handle: "hoa.nguyen",
        lang: "",
    },
    Person {
        name: "Αλέξανδρος Παπαδόπουλος",
        handle: "alex.papadopoulos",
        lang: "",
    },
    Person {
        name: "Дмитрий Иванов",
        handle: "d.ivanov",
        lang: "",
    },
    Person {
        name: "Chiara Dell'Acqua",
        handle: "chiara.dellacqua",
        lang: "",
    },
    Person {
        name: "Beyoncé Okonkwo-Smith",
        handle: "b.okonkwosmith",
        lang: "",
    },
    Person {
        name: "José María Fernández de la Peña",
        handle: "jm.fernandez",
        lang: "es",
    },
    Person {
        name: "Aurélie Dubois",
        handle: "aurelie.dubois",
        lang: "fr",
    },
    Person {
        name: "Jörg Schäfer",
        handle: "joerg.schaefer",
        lang: "de",
    },
];

/// Reserved example domains (RFC 2606 / RFC 6761): nothing here can reach a real inbox.
pub(crate) const DOMAINS: &[(&str, u32)] = &[
    ("example.com", 40),
    ("example.org", 15),
    ("example.net", 15),
    ("mail.example", 10),
    ("inbox.example", 8),
    ("studio.example", 4),
    ("uni.example.edu", 4),
    ("coffee-club.example", 4),
];

/// App store reviewers go by nicknames and leave no email.
pub(crate) const NICKNAMES: &[&str] = &[
    "CoffeeFan88",
    "latte_lover",
    "JM",
    "bean counter",
    "Sleepy Dev",
    "momof3",
    "Caffeinated☕",
    "R.",
    "notabarista",
    "espresso_yourself",
    "Tired Student",
    "KM 🌸",
];

/// Feedback in the customer's own language: (language, mood, tool, title, body).
pub(crate) const FOREIGN: &[(&str, Mood, &str, &str, &str)] = &[
    (
        "es",
        Mood::Positive,
        "Online Store",
        "¡Excelente café!",
        "El café de Colombia Huila está buenísimo. Llegó rápido y bien empaquetado. ¡Gracias!",
    ),
    (
        "es",
        Mood::Negative,
        "Online Store",
        "Pedido incompleto",
        "Faltaba una bolsa en mi pedido y nadie contesta los correos. Muy decepcionado.",
    ),
    (
        "fr",
        Mood::Positive,
        "Harbor St Café",
        "Un vrai régal",
        "Le flat white est parfait, et l'équipe est adorable. Je reviendrai, c'est sûr !",
    ),
    (
        "fr",
        Mood::Negative,
        "Delivery",
        "Livraison en retard",
        "Ma commande est arrivée avec une semaine de retard, et le café n'était plus très frais…",
    ),
    (
        "de",
        Mood::Neutral,
        "Online Store",
        "Frage zur Mahlung",
        "Kann ich den Kaffee auch für eine French Press mahlen lassen? Im Shop finde ich die Option nicht.",
    ),
    (
        "de",
        Mood::Negative,
        "Mobile App",
        "App stürzt ab",
        "Seit dem letzten Update stürzt die App bei jeder Bestellung ab. Bitte dringend beheben.",
    ),
    (
        "zh",
        Mood::Positive,
        "Harbor St Café",
        "咖啡很好喝",
        "拿铁非常好喝，店员也很友好。下次还会再来！☕",
    ),
    (
        "zh",
        Mood::Negative,
        "Checkout",
        "付款失败",
        "付款时一直显示错误，但是银行卡已经扣款了。请尽快处理。",
    ),
    (
        "ja",
        Mood::Positive,
        "Online Store",
        "とても美味しい",
        "エチオピアの豆がとても美味しかったです。香りが素晴らしい。また注文します。",
    ),
    (
        "ja",
        Mood::Neutral,
        "Subscriptions",
        "定期便について",
        "定期便の配送日を変更したいのですが、どこで設定できますか？",
    ),
    (
        "ko",
        Mood::Positive,
        "Harbor St Café",
        "최고의 커피",
        "플랫 화이트가 정말 맛있어요. 직원분들도 친절해요! 😊",
    ),
    (
        "ko",
        Mood::Negative,
        "Delivery",
        "배송 지연",
        "주문한 지 일주일이 지났는데 아직 배송이 안 왔어요.",
    ),
    (
        "ar",
        Mood::Positive,
        "Pine Market Café",
        "قهوة رائعة",
        "القهوة ممتازة والخدمة سريعة. شكراً لكم!",
    ),
    (
        "ar",
        Mood::Negative,
        "Checkout",
        "مشكلة في الدفع",
        "تم خصم المبلغ من بطاقتي مرتين ولم يصلني أي تأكيد للطلب.",
    ),
    (
        "he",
        Mood::Positive,
        "Harbor St Café",
        "קפה מעולה",
        "הקפה מצוין והצוות נחמד מאוד. תודה רבה!",
    ),
    (
        "he",
        Mood::Neutral,
        "Subscriptions",
        "שאלה על מנוי",
        "איך אפשר להשהות את המנוי לחודש אחד?",
    ),
];
