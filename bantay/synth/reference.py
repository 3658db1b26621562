"""Reference data for the synthetic ledger: countries, names, places, merchants, payment wording.

Plain constants, no randomness. Names and places are ordinary public ones; merchants in the sensitive categories
(webcam, adult, token sellers) are invented brand names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Residence:
    """A country the bank's customers live in."""

    code: str
    weight: float
    currency: str
    # (IANA zone, city, postcode pattern) triples; the zone gives the local hour of every payment.
    places: tuple[tuple[str, str, str], ...]
    streets: tuple[str, ...]
    ip_prefixes: tuple[str, ...]
    id_types: tuple[str, ...]
    salary_day: int  # 0 = every other Friday (US/CA payroll), else the day of the month
    salary_median: float  # monthly net pay in local currency
    rent_median: float


RESIDENCES: tuple[Residence, ...] = (
    Residence("GB", 0.24, "GBP",
              (("Europe/London", "London", "SW# #AA"), ("Europe/London", "Manchester", "M## #AA"),
               ("Europe/London", "Birmingham", "B## #AA"), ("Europe/London", "Leeds", "LS# #AA"),
               ("Europe/London", "Glasgow", "G## #AA"), ("Europe/London", "Bristol", "BS# #AA"),
               ("Europe/London", "Cardiff", "CF## #AA"), ("Europe/London", "Norwich", "NR# #AA")),
              ("High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
               "Queens Road", "Kings Road", "Green Lane", "Manor Way"),
              ("86.1", "81.2", "82.3", "90.2", "109.15", "31.94", "2.2"), ("passport", "driving_licence"), 27, 2300.0,
              1100.0),
    Residence("US", 0.24, "USD",
              (("America/New_York", "New York", "100##"), ("America/New_York", "Philadelphia", "191##"),
               ("America/New_York", "Miami", "331##"), ("America/Chicago", "Chicago", "606##"),
               ("America/Chicago", "Houston", "770##"), ("America/Denver", "Denver", "802##"),
               ("America/Phoenix", "Phoenix", "850##"), ("America/Los_Angeles", "Los Angeles", "900##"),
               ("America/Los_Angeles", "Seattle", "981##"), ("America/Los_Angeles", "San Diego", "921##")),
              ("Main Street", "Oak Street", "Maple Avenue", "Washington Avenue", "Elm Street", "Pine Street",
               "Cedar Lane", "Lake Drive", "Sunset Boulevard", "Hillside Avenue"),
              ("73.15", "24.12", "98.20", "68.40", "174.6", "76.101", "107.77"), ("passport", "ssn", "driving_licence"),
              0, 4200.0, 1700.0),
    Residence("AU", 0.12, "AUD",
              (("Australia/Sydney", "Sydney", "2###"), ("Australia/Melbourne", "Melbourne", "3###"),
               ("Australia/Brisbane", "Brisbane", "4###"), ("Australia/Perth", "Perth", "6###"),
               ("Australia/Adelaide", "Adelaide", "5###")),
              ("George Street", "Pitt Street", "Bourke Street", "Queen Street", "Beach Road", "Ocean Parade",
               "Wattle Avenue", "Banksia Drive"),
              ("101.160", "1.144", "120.21", "49.180", "203.206", "110.20"), ("passport", "driving_licence"), 15, 5200.0,
              2300.0),
    Residence("CA", 0.10, "CAD",
              (("America/Toronto", "Toronto", "M#A #A#"), ("America/Toronto", "Ottawa", "K#A #A#"),
               ("America/Vancouver", "Vancouver", "V#A #A#"), ("America/Edmonton", "Calgary", "T#A #A#"),
               ("America/Halifax", "Halifax", "B#A #A#"), ("America/Winnipeg", "Winnipeg", "R#A #A#")),
              ("Yonge Street", "King Street West", "Maple Crescent", "Bay Street", "Elgin Street", "Robson Street"),
              ("99.230", "142.114", "70.52", "174.88", "24.114"), ("passport", "driving_licence"), 0, 4300.0, 1900.0),
    Residence("IE", 0.06, "EUR",
              (("Europe/Dublin", "Dublin", "D## A#A#"), ("Europe/Dublin", "Cork", "T12 A#A#"),
               ("Europe/Dublin", "Galway", "H91 A#A#"), ("Europe/Dublin", "Limerick", "V94 A#A#")),
              ("Main Street", "O'Connell Street", "Church Road", "Strand Road", "Bridge Street"),
              ("86.40", "89.100", "37.228", "109.76"), ("passport", "pps"), 25, 2900.0, 1700.0),
    Residence("SE", 0.07, "SEK",
              (("Europe/Stockholm", "Stockholm", "1## ##"), ("Europe/Stockholm", "Göteborg", "4## ##"),
               ("Europe/Stockholm", "Malmö", "2## ##"), ("Europe/Stockholm", "Uppsala", "75# ##")),
              ("Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan", "Skolgatan", "Kyrkogatan"),
              ("83.248", "90.224", "78.70", "213.112", "81.224"), ("passport", "personnummer"), 25, 31000.0, 9500.0),
    Residence("DE", 0.12, "EUR",
              (("Europe/Berlin", "Berlin", "10###"), ("Europe/Berlin", "Hamburg", "20###"),
               ("Europe/Berlin", "München", "80###"), ("Europe/Berlin", "Köln", "50###"),
               ("Europe/Berlin", "Frankfurt am Main", "60###"), ("Europe/Berlin", "Leipzig", "04###")),
              ("Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Dorfstraße", "Lindenstraße"),
              ("84.150", "91.64", "79.200", "87.123", "93.199", "2.200"), ("personalausweis", "passport"), 30, 2700.0,
              1000.0),
    Residence("NL", 0.05, "EUR",
              (("Europe/Amsterdam", "Amsterdam", "10## AA"), ("Europe/Amsterdam", "Rotterdam", "30## AA"),
               ("Europe/Amsterdam", "Utrecht", "35## AA"), ("Europe/Amsterdam", "Eindhoven", "56## AA")),
              ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat", "Prinsengracht"),
              ("84.104", "86.80", "77.160", "145.53", "62.45"), ("passport", "identiteitskaart"), 24, 2900.0, 1300.0),
)

RESIDENCE_INDEX = {r.code: i for i, r in enumerate(RESIDENCES)}

# Names by name origin. Residence countries reuse their own; diaspora and payees use the others.
FIRST_MALE: dict[str, tuple[str, ...]] = {
    "EN": ("James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Mark", "Paul", "Steven",
           "Andrew", "Peter", "Gary", "Kevin", "Brian", "Daniel", "Christopher", "Matthew", "Anthony", "Ian", "Craig",
           "Graham", "Neil", "Stuart", "Wayne", "Scott", "Jason", "Ryan", "Liam", "Noah", "Oliver", "Jack", "Ethan"),
    "IE": ("Seán", "Patrick", "Conor", "Ciarán", "Declan", "Eoin", "Liam", "Niall", "Darragh", "Cian", "Michael",
           "John", "Brendan", "Padraig"),
    "SE": ("Lars", "Anders", "Johan", "Erik", "Per", "Karl", "Nils", "Mikael", "Magnus", "Björn", "Olof", "Gustav",
           "Henrik", "Fredrik", "Oskar"),
    "DE": ("Thomas", "Michael", "Andreas", "Stefan", "Jürgen", "Klaus", "Frank", "Uwe", "Markus", "Jörg", "Tobias",
           "Lukas", "Felix", "Maximilian", "Wolfgang"),
    "NL": ("Jan", "Pieter", "Johannes", "Hendrik", "Willem", "Cornelis", "Bas", "Daan", "Sander", "Thijs", "Ruud",
           "Joost", "Maarten", "Koen"),
    "PH": ("Jose", "Juan", "Mark", "John Paul", "Ramon", "Rodel", "Jerome", "Carlo", "Arnel", "Reynaldo", "Jun",
           "Christian", "Joel", "Romeo", "Dennis", "Rolando", "Angelo", "Bong"),
    "TH": ("Somchai", "Somsak", "Anan", "Prasert", "Chaiwat", "Niran", "Wichai", "Kittisak", "Sombat", "Thawatchai"),
    "ES": ("José", "Juan", "Carlos", "Luis", "Miguel", "Jorge", "Andrés", "Diego", "Alejandro", "Fernando",
           "Ramón", "Héctor", "Julio", "Manuel"),
    "GH": ("Kwame", "Kofi", "Kwabena", "Yaw", "Kojo", "Kwaku", "Emmanuel", "Samuel", "Isaac", "Ebo"),
    "RO": ("Andrei", "Ion", "Alexandru", "Mihai", "Gheorghe", "Constantin", "Florin", "Bogdan", "Cristian",
           "Ionuț", "Vlad", "Răzvan"),
    "IN": ("Rahul", "Amit", "Sanjay", "Vijay", "Rajesh", "Arjun", "Suresh", "Anil", "Deepak", "Ravi"),
    "PL": ("Piotr", "Krzysztof", "Tomasz", "Paweł", "Marcin", "Michał", "Łukasz", "Jakub", "Grzegorz", "Adam"),
}
FIRST_FEMALE: dict[str, tuple[str, ...]] = {
    "EN": ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Sarah", "Karen", "Emma", "Claire",
           "Helen", "Rachel", "Laura", "Nicola", "Amanda", "Jessica", "Emily", "Olivia", "Sophie", "Hannah", "Megan",
           "Lauren", "Rebecca", "Chloe"),
    "IE": ("Aoife", "Siobhán", "Niamh", "Róisín", "Orla", "Clodagh", "Sinéad", "Mary", "Ciara", "Caoimhe"),
    "SE": ("Anna", "Eva", "Maria", "Karin", "Kristina", "Lena", "Sara", "Emma", "Ingrid", "Astrid", "Linnéa", "Elin"),
    "DE": ("Sabine", "Petra", "Monika", "Claudia", "Susanne", "Andrea", "Julia", "Katrin", "Anna", "Lena", "Sophie",
           "Jana"),
    "NL": ("Anna", "Maria", "Johanna", "Sanne", "Lotte", "Femke", "Eva", "Anouk", "Inge", "Marieke", "Lieke"),
    "PH": ("Maria", "Ma. Cristina", "Jennifer", "Rowena", "Marites", "Jocelyn", "Analyn", "Mary Grace", "Lorna",
           "Kristine", "Angelica", "Rhea", "Joy", "Mylene", "Liezl", "Jasmine", "Princess", "Divina", "Cherry",
           "Shiela", "Rosalie", "Lovely", "Jonalyn", "Erlinda"),
    "TH": ("Siriporn", "Malee", "Nok", "Ploy", "Kanya", "Somying", "Wanida", "Pranee", "Suda", "Achara", "Ratana"),
    "ES": ("María", "Ana", "Carmen", "Lucía", "Rosa", "Juana", "Gabriela", "Yolanda", "Daniela", "Valentina",
           "Marisol", "Leticia", "Alejandra", "Yesenia"),
    "GH": ("Akosua", "Ama", "Abena", "Adwoa", "Efua", "Afua", "Esi", "Grace", "Comfort", "Gifty"),
    "RO": ("Maria", "Elena", "Ioana", "Andreea", "Mihaela", "Cristina", "Alexandra", "Gabriela", "Ana", "Daniela"),
    "IN": ("Priya", "Sunita", "Anjali", "Pooja", "Neha", "Kavita", "Deepa", "Lakshmi", "Meera", "Divya"),
    "PL": ("Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Joanna", "Ewa", "Magdalena", "Monika", "Barbara"),
}
SURNAMES: dict[str, tuple[str, ...]] = {
    "EN": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
           "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Miller",
           "Davis", "Anderson", "Martin", "Harris", "Moore", "Clark", "Lewis", "Young", "King", "Baker", "Hughes",
           "Campbell", "Murphy", "Cooper", "Ward", "Turner", "Parker", "Edwards", "Mitchell", "Nguyen", "Patel",
           "Khan", "Singh", "Kowalski", "O'Brien", "MacDonald", "Stewart", "Scott", "Reid", "Morrison", "Tremblay",
           "Gagnon", "Roy", "Bouchard"),
    "IE": ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor", "O'Neill",
           "Ó Súilleabháin", "McCarthy", "Doyle", "Gallagher", "Kennedy", "Lynch", "Quinn", "Brennan"),
    "SE": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
           "Gustafsson", "Pettersson", "Jonsson", "Lindqvist", "Lindström", "Åberg", "Öberg", "Bergström"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
           "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
           "Yılmaz", "Kaya", "Nowak"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
           "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen"),
    "PH": ("Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres", "Tomas", "Andrada",
           "Castillo", "Flores", "Villanueva", "Ramos", "Castro", "Rivera", "Aquino", "Navarro", "Salazar", "Mercado",
           "Dela Cruz", "De Leon", "Delos Santos", "Gonzales", "Lopez", "Aguilar", "Pascual", "Manalo", "Dizon",
           "Soriano", "Lim", "Tan", "Macaraeg", "Panganiban", "Magbanua", "Dimaculangan", "Cabrera", "Nuñez",
           "Peña", "Ibañez", "Domingo", "Sison", "Lacson", "Tolentino", "Valdez", "Samonte", "Fernandez", "Gutierrez"),
    "TH": ("Saetang", "Srisuk", "Chaiyaporn", "Wongsawat", "Boonmee", "Thongdee", "Kaewkla", "Rattanakorn",
           "Sukprasert", "Phromma", "Inthasorn", "Kongkaew"),
    "ES": ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez",
           "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Morales", "Jiménez", "Ruiz", "Álvarez", "Castillo",
           "Peña", "Núñez", "Vargas", "Rojas", "Ortiz", "Mejía"),
    "GH": ("Mensah", "Owusu", "Boateng", "Asante", "Osei", "Adjei", "Appiah", "Agyeman", "Amponsah", "Darko",
           "Ofori", "Quaye", "Tetteh", "Annan"),
    "RO": ("Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu",
           "Munteanu", "Rusu", "Lungu", "Țurcan", "Ștefănescu"),
    "IN": ("Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Nair", "Iyer", "Das", "Mehta", "Joshi", "Rao"),
    "PL": ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
           "Szymański", "Woźniak"),
}
# Which name pool a nationality draws from.
NAME_ORIGIN = {"GB": "EN", "US": "EN", "AU": "EN", "CA": "EN", "IE": "IE", "SE": "SE", "DE": "DE", "NL": "NL",
               "PH": "PH", "TH": "TH", "CO": "ES", "DO": "ES", "MX": "ES", "GH": "GH", "RO": "RO", "IN": "IN",
               "PL": "PL"}
# Immigrant nationalities among residents (share of residents who are not nationals, and from where).
MIGRANT_SHARE = 0.12
MIGRANT_NATIONALITIES = ("IN", "PL", "RO", "MX", "CO", "GH", "TH", "PH", "DO")
MIGRANT_WEIGHTS = (0.26, 0.2, 0.14, 0.1, 0.07, 0.07, 0.05, 0.08, 0.03)

OCCUPATIONS = ("teacher", "nurse", "software engineer", "accountant", "electrician", "retail assistant",
               "warehouse operative", "driver", "civil servant", "sales manager", "chef", "carpenter", "consultant",
               "pharmacist", "mechanic", "student", "retired", "self-employed", "care worker", "engineer",
               "project manager", "plumber", "police officer", "doctor", "lawyer", "architect", "farmer",
               "hospitality worker", "IT support", "marketing executive", "unemployed", "homemaker")
OFW_OCCUPATIONS = ("nurse", "care worker", "caregiver", "seafarer", "domestic worker", "hospitality worker",
                   "healthcare assistant", "engineer", "IT support", "cleaner")

# Destination countries of payments abroad: phone prefix, currency, name origin, cities (with F4 weights for PH).
@dataclass(frozen=True)
class Destination:
    code: str
    currency: str
    dial: str
    origin: str
    cities: tuple[tuple[str, float], ...]
    mobile_prefixes: tuple[str, ...]
    national_digits: int  # digits after the mobile prefix


DESTINATIONS: dict[str, Destination] = {
    # F4: Metro Manila ~30%, Pampanga / Central Luzon 25%, Cebu / Central Visayas 25%, Zamboanga 10%, other 10%.
    "PH": Destination("PH", "PHP", "63", "PH",
                      (("Manila", 0.09), ("Quezon City", 0.08), ("Caloocan", 0.04), ("Pasay", 0.03),
                       ("Taguig", 0.03), ("Makati", 0.03), ("Angeles", 0.09), ("San Fernando", 0.07),
                       ("Mabalacat", 0.04), ("Olongapo", 0.03), ("Tarlac City", 0.02), ("Cebu City", 0.12),
                       ("Lapu-Lapu", 0.07), ("Mandaue", 0.04), ("Talisay", 0.02), ("Zamboanga City", 0.1),
                       ("Davao City", 0.04), ("Iloilo City", 0.03), ("Cagayan de Oro", 0.02), ("Bacolod", 0.01)),
                      ("917", "918", "919", "920", "927", "939", "945", "955", "966", "977", "995", "998"), 7),
    "TH": Destination("TH", "THB", "66", "TH",
                      (("Bangkok", 0.45), ("Pattaya", 0.15), ("Chiang Mai", 0.12), ("Udon Thani", 0.1),
                       ("Khon Kaen", 0.1), ("Phuket", 0.08)), ("81", "82", "86", "89", "91", "95"), 7),
    "CO": Destination("CO", "COP", "57", "ES",
                      (("Medellín", 0.35), ("Bogotá", 0.3), ("Cali", 0.2), ("Barranquilla", 0.15)),
                      ("300", "310", "311", "315", "320"), 7),
    "DO": Destination("DO", "DOP", "1", "ES",
                      (("Santo Domingo", 0.55), ("Santiago de los Caballeros", 0.25), ("Puerto Plata", 0.2)),
                      ("809", "829", "849"), 7),
    "MX": Destination("MX", "MXN", "52", "ES",
                      (("Ciudad de México", 0.35), ("Guadalajara", 0.2), ("Tijuana", 0.2), ("Cancún", 0.1),
                       ("Monterrey", 0.15)), ("155", "133", "664", "998", "181"), 7),
    "GH": Destination("GH", "GHS", "233", "GH",
                      (("Accra", 0.6), ("Kumasi", 0.3), ("Tamale", 0.1)), ("24", "54", "55", "20", "50"), 7),
    "RO": Destination("RO", "RON", "40", "RO",
                      (("București", 0.45), ("Cluj-Napoca", 0.2), ("Iași", 0.2), ("Timișoara", 0.15)),
                      ("721", "722", "744", "755", "766"), 6),
}
OCSE_DESTINATIONS = ("PH", "TH", "CO", "DO", "MX", "GH", "RO")
OCSE_DESTINATION_WEIGHTS = (0.75, 0.08, 0.05, 0.04, 0.04, 0.02, 0.02)

# FX: USD per unit on the first day, and the daily volatility of the random walk.
FX_START = {"USD": 1.0, "GBP": 1.27, "EUR": 1.08, "AUD": 0.66, "CAD": 0.74, "SEK": 0.095, "PHP": 0.0176,
            "THB": 0.028, "COP": 0.00025, "DOP": 0.017, "MXN": 0.058, "GHS": 0.08, "RON": 0.217, "INR": 0.012,
            "PLN": 0.25}
FX_VOL = 0.004

# Card merchant categories: (mcc, name of the category, brands, median amount in USD, online).
CARD_CATEGORIES: tuple[tuple[str, str, tuple[str, ...], float, bool], ...] = (
    ("5411", "grocery", (), 38.0, False),
    ("5812", "restaurant", ("Nando's", "Pizza Express", "The Olive Tree", "Wagamama", "Bella Italia", "Zizzi",
                            "Blue Door Bistro", "Harbour Kitchen", "Red Lantern"), 42.0, False),
    ("5814", "fast food", ("McDonald's", "Burger King", "KFC", "Subway", "Starbucks", "Greggs", "Tim Hortons",
                           "Domino's", "Costa Coffee"), 11.0, False),
    ("5541", "fuel", ("Shell", "BP", "Esso", "Texaco", "Chevron", "Circle K", "Aral", "OKQ8", "Ampol"), 55.0, False),
    ("5912", "pharmacy", ("Boots", "CVS Pharmacy", "Walgreens", "Chemist Warehouse", "Shoppers Drug Mart",
                          "Apotheke am Markt", "Apotek Hjärtat", "Kruidvat"), 18.0, False),
    ("5651", "clothing", ("H&M", "Zara", "Uniqlo", "Primark", "Gap", "Next", "C&A", "Lindex"), 60.0, False),
    ("5311", "department store", ("Marks & Spencer", "John Lewis", "Target", "Kmart", "Hudson's Bay",
                                  "Galeria", "Åhléns", "HEMA"), 48.0, False),
    ("4111", "transport", ("TfL Travel Charge", "MTA NYC Transit", "Opal Transport", "Presto", "SL Access",
                           "BVG", "NS Reizigers", "Leap Card"), 9.0, False),
    ("4121", "taxi", ("Uber Trip", "Bolt", "Lyft", "FreeNow", "DiDi"), 19.0, True),
    ("5942", "books", ("Waterstones", "Barnes & Noble", "Dymocks", "Indigo", "Thalia", "Akademibokhandeln"),
     22.0, False),
    ("5732", "electronics", ("Currys", "Best Buy", "JB Hi-Fi", "MediaMarkt", "Elgiganten", "Coolblue"), 140.0, False),
    ("5999", "online shopping", ("Amazon", "eBay", "Etsy", "Temu", "Shein", "Bol.com", "Zalando"), 32.0, True),
    ("4899", "streaming", ("Netflix", "Spotify", "Disney Plus", "YouTube Premium", "Apple Music", "HBO Max"),
     13.0, True),
    ("5815", "digital media", ("Apple.com/bill", "Google Play", "Audible", "Kindle Store"), 9.0, True),
    ("5816", "games", ("Steam", "PlayStation Network", "Xbox", "Nintendo eShop", "Epic Games", "Roblox"), 21.0, True),
    ("7832", "cinema", ("Odeon", "Cineworld", "AMC Theatres", "Hoyts", "Cineplex", "SF Bio", "Pathé"), 24.0, False),
    ("5661", "shoes", ("Foot Locker", "Schuh", "Deichmann", "Skechers"), 75.0, False),
    ("7997", "gym", ("PureGym", "Planet Fitness", "Anytime Fitness", "Fitness First", "Basic-Fit", "SATS"),
     35.0, False),
)
GROCERS = {"GB": ("Tesco", "Sainsbury's", "Asda", "Morrisons", "Aldi", "Lidl", "Co-op", "Waitrose"),
           "US": ("Walmart", "Kroger", "Safeway", "Whole Foods", "Trader Joe's", "Costco", "Publix"),
           "AU": ("Woolworths", "Coles", "Aldi", "IGA", "Harris Farm"),
           "CA": ("Loblaws", "Sobeys", "Metro", "No Frills", "Walmart", "Save-On-Foods"),
           "IE": ("Tesco", "Dunnes Stores", "SuperValu", "Lidl", "Aldi"),
           "SE": ("ICA", "Coop", "Willys", "Hemköp", "Lidl"),
           "DE": ("Edeka", "Rewe", "Aldi Süd", "Lidl", "Penny", "Netto"),
           "NL": ("Albert Heijn", "Jumbo", "Lidl", "Plus", "Aldi")}
# Per-day category weights of ordinary card spending (same order as CARD_CATEGORIES).
CARD_WEIGHTS = (0.28, 0.08, 0.13, 0.07, 0.04, 0.04, 0.03, 0.07, 0.03, 0.01, 0.01, 0.08, 0.03, 0.03, 0.02, 0.01,
                0.01, 0.03)

# Sensitive card spending (O8), bought by offenders and, more often in total, by ordinary customers.
# (mcc, merchant, kind, median USD, merchant country)
RELATED_MERCHANTS: tuple[tuple[str, str, str, float, str], ...] = (
    ("5967", "CamVerse Tokens", "webcam", 35.0, "CY"),
    ("5967", "LiveLounge Cams", "webcam", 30.0, "NL"),
    ("5967", "NightShow Credits", "webcam", 25.0, "MT"),
    ("5967", "PrivateRoom Live", "adult", 28.0, "CY"),
    ("5967", "VelvetStream", "adult", 15.0, "US"),
    ("6051", "TokenHub Prepaid", "tokens", 40.0, "MT"),
    ("6051", "CoinDrop Vouchers", "tokens", 50.0, "LT"),
    ("7273", "Tinder", "dating", 25.0, "US"),
    ("7273", "Bumble", "dating", 22.0, "US"),
    ("7273", "Match.com", "dating", 30.0, "US"),
    ("7273", "FilipinoCupid", "dating", 30.0, "AU"),
    ("7273", "ThaiFriendly", "dating", 28.0, "AU"),
    ("4816", "NordVPN", "vpn", 12.0, "PA"),
    ("4816", "ExpressVPN", "vpn", 13.0, "VG"),
    ("4816", "Surfshark", "vpn", 10.0, "NL"),
    ("4816", "Proton AG", "vpn", 10.0, "CH"),
    ("5734", "Bandicam Company", "screen_capture", 39.0, "KR"),
    ("5734", "TechSmith Snagit", "screen_capture", 63.0, "US"),
    ("5734", "Piriform CCleaner", "cleaner", 30.0, "GB"),
    ("5734", "Privacy Eraser Pro", "cleaner", 25.0, "US"),
)

# Payment references. Index 0 is "no reference".
REFERENCES = ("", "school fees", "gift", "medical", "uniform", "family support", "payment", "for you", "allowance",
              "tuition", "birthday", "pasalubong", "rent share", "invoice", "salary", "donation", "tithe",
              "order", "thanks", "load", "help", "bills", "food", "support", "padala", "Merry Christmas",
              "happy birthday", "hospital", "emergency", "ticket", "loan", "repayment", "groceries", "deposit",
              "dinner split", "holiday", "tips", "commission", "services rendered")
REF_INNOCENT_SOUNDING = ("school fees", "gift", "medical", "uniform", "family support")

# Remittance and payout wording for gift cards and crypto.
CRYPTO_EXCHANGES = (("Coinbase", "US"), ("Binance", "MT"), ("Kraken", "US"), ("Crypto.com", "SG"),
                    ("Bitstamp", "LU"))
GIFT_CARDS = (("5947", "Steam Gift Card", "US"), ("5947", "Google Play Gift Card", "US"),
              ("5947", "Apple Gift Card", "US"), ("5947", "Amazon Gift Card", "LU"))
AIRLINES = (("Philippine Airlines", "PH"), ("Cebu Pacific", "PH"), ("Qatar Airways", "QA"),
            ("Emirates", "AE"), ("Thai Airways", "TH"), ("Cathay Pacific", "HK"), ("Avianca", "CO"))
DOMESTIC_FOREIGN = ("ES", "FR", "IT", "PT", "PL", "IN", "US", "GB", "DE", "NL", "GR", "TR", "PH", "TH", "MX")
DOMESTIC_FOREIGN_CURRENCY_CITY = {"ES": "Madrid", "FR": "Paris", "IT": "Roma", "PT": "Lisboa", "PL": "Warszawa",
                                  "IN": "Mumbai", "US": "New York", "GB": "London", "DE": "Berlin",
                                  "NL": "Amsterdam", "GR": "Athina", "TR": "Istanbul", "PH": "Makati",
                                  "TH": "Bangkok", "MX": "Cancún"}
# Hosting ranges used by commercial VPN exits (shared by everyone who uses a VPN).
VPN_PREFIXES = ("185.220.101", "45.134.140", "193.138.218", "89.187.170", "146.70.112", "37.19.200",
                "103.107.197", "156.146.59", "212.102.44", "91.207.57")
# Mobile and broadband prefixes of destinations, for travellers' sessions abroad.
TRAVEL_PREFIXES = {"PH": ("112.198", "49.145", "110.54"), "TH": ("49.228", "171.96"), "CO": ("181.49",),
                   "DO": ("152.166",), "MX": ("187.190",), "GH": ("154.160",), "RO": ("86.120",),
                   "ES": ("83.45",), "FR": ("90.60",), "IT": ("93.34",), "US": ("73.22",)}
