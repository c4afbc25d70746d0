"""Word lists of the synthetic population: names by origin, Belgian municipalities with their real
postcodes by region, street names by language, and a few foreign towns.

Invented persons only: the lists are common surnames and first names, and real place names.
"""

from __future__ import annotations

from registry.service.regions import Region

# The tables below are laid out by hand for reading; the formatter would put one item per line.
# fmt: off

# -- names by origin ------------------------------------------------------------------------------
# "nl": Flemish, "fr": Walloon/French-speaking, "de": German-speaking; the others are the largest
# foreign-origin communities of Belgium (nationality or heritage).

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "nl": (
        "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Vermeulen", "Van den Bossche", "Hermans", "Aerts", "Pauwels",
        "Van Damme", "De Clercq", "Michiels", "Lambrechts", "Verstraete", "Claeys",
        "Vandenbroucke", "Desmet", "De Backer", "Smets", "Martens", "Van de Velde", "Verhoeven",
        "Vermeiren", "Leysen", "Geerts", "Coppens", "Stevens", "Verbruggen", "De Vos", "Cools",
        "Dewulf", "Van Acker", "Segers", "De Wilde", "Moens", "Bogaerts", "Declercq",
        "Verschueren", "Van Hecke", "Wuyts", "Van Dyck", "De Cock", "Baert", "Pieters",
        "Lemmens", "Huybrechts", "Vanhoutte", "D'Hondt", "Verlinden", "De Meyer", "Boeckx",
        "Vercammen", "Schepens", "Verheyen", "Gielen", "Nijs", "Daems", "Luyten",
        "Vanderstraeten", "Dierckx", "Thys", "Van Rompaey", "Desmedt", "Van Gucht",
    ),
    "fr": (
        "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Lefèvre",
        "Lejeune", "Renard", "François", "Dumont", "Mathieu", "Collard", "Gérard", "Noël",
        "Henry", "Fontaine", "Lemaire", "Lecomte", "Denis", "Leroy", "Lambotte", "Jacquet",
        "Piron", "Hubert", "Thiry", "Georges", "Massart", "Bastin", "Marchal", "Delvaux",
        "Gilson", "Pirard", "Wathelet", "Collignon", "Remacle", "Gaspard", "Delhaye",
        "Lemoine", "Bodart", "Grégoire", "Bertrand", "Poncelet", "Mélard", "Defossé", "Hénin",
        "Dethier", "Cornélis", "Jadot", "Mottet", "Lurquin", "Crèvecœur", "Lefébure", "Thémans",
        "Degrève", "Gilles", "Mahieu", "Étienne", "Rousseau",
    ),
    "de": (
        "Müller", "Schmitz", "Schröder", "Krings", "Heinen", "Jost", "Meyer", "Weber", "Kessler",
        "Schumacher",
    ),
    "ma": (
        "El Idrissi", "Benali", "El Amrani", "Bouzid", "Haddad", "Ait Ouali", "Azzouzi",
        "Chaouki", "El Khattabi", "Boukhari", "Ouali", "Ben Said",
    ),
    "tr": ("Yılmaz", "Kaya", "Çelik", "Demir", "Öztürk", "Şahin", "Aydın", "Arslan", "Doğan"),
    "it": ("Rossi", "Russo", "Esposito", "Bianchi", "Romano", "Ferrari", "Greco", "Di Rupo"),
    "pl": ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Lewandowski", "Kamiński", "Zieliński"),
    "ro": ("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica"),
    "es": ("García", "Fernández", "Rodríguez", "López", "Martínez", "Sánchez"),
    "pt": ("Da Silva", "Pereira", "Santos", "Ferreira", "Oliveira", "Gonçalves"),
    "cd": ("Tshibangu", "Ilunga", "Mukendi", "Kabasele", "Lukusa", "Mbuyi", "Kalonji"),
}

#: First names by origin: (male, female).
FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "nl": (
        (
            "Jan", "Pieter", "Koen", "Bart", "Tom", "Wim", "Luc", "Dirk", "Jef", "Stijn", "Wouter",
            "Lars", "Arne", "Jens", "Lucas", "Noah", "Liam", "Finn", "Milan", "Seppe", "Robbe",
            "Jonas", "Thibo", "Kobe", "Jules", "Louis", "Victor", "Arthur", "Ward", "Lowie",
            "Senne", "Frans", "Guido", "Marc", "Patrick", "Rik", "Hendrik", "Jozef", "Willem",
        ),
        (
            "An", "Els", "Katrien", "Sofie", "Lies", "Hilde", "Griet", "Annelies", "Lotte", "Marie",
            "Emma", "Louise", "Olivia", "Elise", "Noor", "Lena", "Julie", "Fien", "Lore", "Febe",
            "Nele", "Ine", "Liesbeth", "Anke", "Mieke", "Maria", "Godelieve", "Rita", "Martine",
        ),
    ),
    "fr": (
        (
            "Jean", "Pierre", "Philippe", "Michel", "André", "Jacques", "Luc", "Benoît", "François",
            "Olivier", "Nicolas", "Julien", "Maxime", "Thomas", "Hugo", "Théo", "Nathan", "Louis",
            "Gabriel", "Raphaël", "Noé", "Mathéo", "Léon", "Émile", "Jean-Pierre", "Jean-Marc",
            "Jean-François", "Frédéric", "Stéphane", "Sébastien", "Jérôme", "Cédric",
        ),
        (
            "Marie", "Anne", "Isabelle", "Nathalie", "Catherine", "Sophie", "Christine",
            "Françoise", "Véronique", "Valérie", "Chloé", "Léa", "Camille", "Manon", "Zoé",
            "Inès", "Éloïse", "Louise", "Alice", "Juliette", "Anaïs", "Mélanie", "Céline", "Hélène",
            "Geneviève", "Marie-Claire", "Anne-Sophie", "Marie-Noëlle", "Joëlle", "Danièle",
        ),
    ),
    "de": (
        ("Lukas", "Jonas", "Felix", "Hubert", "Günter", "Jürgen"),
        ("Anna", "Lea", "Sophie", "Jütta", "Käthe", "Birgit"),
    ),
    "ma": (
        ("Mohamed", "Youssef", "Omar", "Mehdi", "Ayoub", "Hamza", "Ilyas", "Rayan", "Adam"),
        ("Fatima", "Khadija", "Amina", "Salma", "Yasmina", "Nour", "Hajar", "Imane", "Sara"),
    ),
    "tr": (
        ("Mehmet", "Ahmet", "Emre", "Burak", "Mustafa", "Yusuf", "Murat"),
        ("Ayşe", "Elif", "Zeynep", "Aylin", "Fatma", "Merve", "Büşra"),
    ),
    "it": (
        ("Marco", "Giuseppe", "Luca", "Salvatore", "Antonio", "Francesco"),
        ("Giulia", "Francesca", "Chiara", "Rosa", "Giovanna"),
    ),
    "pl": (
        ("Piotr", "Krzysztof", "Tomasz", "Paweł", "Łukasz"),
        ("Agnieszka", "Katarzyna", "Małgorzata", "Joanna"),
    ),
    "ro": (("Andrei", "Mihai", "Ion", "Alexandru"), ("Ioana", "Elena", "Maria", "Andreea")),
    "es": (("Carlos", "José", "Javier", "Miguel"), ("Lucía", "María", "Carmen", "Sofía")),
    "pt": (("João", "Pedro", "Rui", "Tiago"), ("Ana", "Beatriz", "Inês", "Mariana")),
    "cd": (
        ("Patrice", "Jean-Claude", "Emmanuel", "Christian", "Héritier"),
        ("Grace", "Esther", "Béatrice", "Nathalie", "Divine"),
    ),
}

#: The usual origin of a foreign nationality's names.
ORIGIN_OF_NATIONALITY = {
    "NL": "nl", "FR": "fr", "DE": "de", "LU": "fr", "MA": "ma", "TR": "tr", "IT": "it",
    "PL": "pl", "RO": "ro", "ES": "es", "PT": "pt", "CD": "cd",
}
#: Belgians of another origin (heritage), drawn among these.
HERITAGE_ORIGINS = ("ma", "tr", "it", "cd", "pl", "es")

# -- places ---------------------------------------------------------------------------------------

#: (postcode, French name, Dutch name) in the Brussels-Capital Region.
BRUSSELS: tuple[tuple[str, str, str], ...] = (
    ("1000", "Bruxelles", "Brussel"),
    ("1020", "Laeken", "Laken"),
    ("1030", "Schaerbeek", "Schaarbeek"),
    ("1040", "Etterbeek", "Etterbeek"),
    ("1050", "Ixelles", "Elsene"),
    ("1060", "Saint-Gilles", "Sint-Gillis"),
    ("1070", "Anderlecht", "Anderlecht"),
    ("1080", "Molenbeek-Saint-Jean", "Sint-Jans-Molenbeek"),
    ("1081", "Koekelberg", "Koekelberg"),
    ("1082", "Berchem-Sainte-Agathe", "Sint-Agatha-Berchem"),
    ("1083", "Ganshoren", "Ganshoren"),
    ("1090", "Jette", "Jette"),
    ("1140", "Evere", "Evere"),
    ("1150", "Woluwe-Saint-Pierre", "Sint-Pieters-Woluwe"),
    ("1160", "Auderghem", "Oudergem"),
    ("1170", "Watermael-Boitsfort", "Watermaal-Bosvoorde"),
    ("1180", "Uccle", "Ukkel"),
    ("1190", "Forest", "Vorst"),
    ("1200", "Woluwe-Saint-Lambert", "Sint-Lambrechts-Woluwe"),
    ("1210", "Saint-Josse-ten-Noode", "Sint-Joost-ten-Node"),
)

FLANDERS: tuple[tuple[str, str], ...] = (
    ("1500", "Halle"), ("1700", "Dilbeek"), ("1800", "Vilvoorde"), ("1930", "Zaventem"),
    ("2000", "Antwerpen"), ("2018", "Antwerpen"), ("2060", "Antwerpen"), ("2100", "Deurne"),
    ("2140", "Borgerhout"), ("2300", "Turnhout"), ("2400", "Mol"), ("2500", "Lier"),
    ("2800", "Mechelen"), ("2900", "Schoten"), ("3000", "Leuven"), ("3010", "Kessel-Lo"),
    ("3200", "Aarschot"), ("3300", "Tienen"), ("3500", "Hasselt"), ("3600", "Genk"),
    ("3700", "Tongeren"), ("3800", "Sint-Truiden"), ("3900", "Pelt"), ("8000", "Brugge"),
    ("8400", "Oostende"), ("8500", "Kortrijk"), ("8800", "Roeselare"), ("8900", "Ieper"),
    ("9000", "Gent"), ("9100", "Sint-Niklaas"), ("9200", "Dendermonde"), ("9300", "Aalst"),
    ("9400", "Ninove"), ("9700", "Oudenaarde"), ("9800", "Deinze"), ("9900", "Eeklo"),
)

WALLONIA: tuple[tuple[str, str], ...] = (
    ("1300", "Wavre"), ("1310", "La Hulpe"), ("1330", "Rixensart"), ("1348", "Louvain-la-Neuve"),
    ("1400", "Nivelles"), ("1410", "Waterloo"), ("1420", "Braine-l'Alleud"), ("1480", "Tubize"),
    ("4000", "Liège"), ("4020", "Liège"), ("4100", "Seraing"), ("4300", "Waremme"),
    ("4500", "Huy"), ("4700", "Eupen"), ("4800", "Verviers"), ("4900", "Spa"), ("5000", "Namur"),
    ("5100", "Jambes"), ("5500", "Dinant"), ("6000", "Charleroi"), ("6001", "Marcinelle"),
    ("6040", "Jumet"), ("6700", "Arlon"), ("6800", "Libramont-Chevigny"),
    ("6900", "Marche-en-Famenne"), ("7000", "Mons"), ("7100", "La Louvière"),
    ("7500", "Tournai"), ("7700", "Mouscron"), ("7800", "Ath"),
)

STREETS_NL = (
    "Kerkstraat", "Stationsstraat", "Dorpstraat", "Molenstraat", "Schoolstraat", "Nieuwstraat",
    "Kapelstraat", "Beekstraat", "Lindenlaan", "Kastanjelaan", "Veldstraat", "Hoogstraat",
    "Grote Markt", "Meir", "Kouter", "Bredabaan", "Gentsesteenweg", "Brugsesteenweg",
    "Sint-Jansstraat", "Leopoldlaan",
)
STREETS_FR = (
    "Rue de la Station", "Rue de l'Église", "Rue du Moulin", "Rue des Écoles", "Place Communale",
    "Chaussée de Wavre", "Rue Haute", "Rue Neuve", "Rue de Namur", "Rue du Château",
    "Avenue des Tilleuls", "Rue Saint-Gilles", "Rue de Bruxelles", "Chaussée de Charleroi",
    "Rue Léopold", "Boulevard d'Avroy", "Rue du Pont", "Avenue Albert Ier",
)
#: (French, Dutch) street names of Brussels.
STREETS_BRUSSELS = (
    ("Rue Neuve", "Nieuwstraat"), ("Rue de la Loi", "Wetstraat"), ("Avenue Louise", "Louizalaan"),
    ("Chaussée de Wavre", "Waversesteenweg"), ("Rue Haute", "Hoogstraat"),
    ("Boulevard Anspach", "Anspachlaan"), ("Rue du Midi", "Zuidstraat"),
    ("Chaussée d'Ixelles", "Elsensesteenweg"), ("Rue Royale", "Koningsstraat"),
    ("Avenue de la Couronne", "Kroonlaan"), ("Rue de Flandre", "Vlaamsesteenweg"),
    ("Place Flagey", "Flageyplein"), ("Rue Gallait", "Gallaitstraat"),
    ("Chaussée de Gand", "Gentsesteenweg"),
)

MUNICIPALITIES: dict[Region, tuple[tuple[str, str], ...]] = {
    Region.FLANDERS: FLANDERS,
    Region.WALLONIA: WALLONIA,
    Region.BRUSSELS: tuple((code, fr) for code, fr, _ in BRUSSELS),
}

#: Foreign towns by country: ((postcode, town), ...) and street names.
FOREIGN: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "NL": ((("3011 AB", "Rotterdam"), ("1012 JS", "Amsterdam"), ("5611 AA", "Eindhoven")),
           ("Hoofdstraat", "Dorpsstraat", "Kerkweg")),
    "FR": ((("59000", "Lille"), ("75011", "Paris"), ("59200", "Tourcoing")),
           ("Rue de la République", "Rue Victor Hugo", "Avenue Jean Jaurès")),
    "DE": ((("52062", "Aachen"), ("50667", "Köln")), ("Hauptstraße", "Bahnhofstraße")),
    "LU": ((("1009", "Luxembourg"), ("4002", "Esch-sur-Alzette")), ("Grand-Rue", "Rue de la Gare")),
    "MA": ((("90000", "Tanger"), ("20000", "Casablanca")), ("Boulevard Mohammed V", "Rue de Fès")),
    "TR": ((("34000", "İstanbul"), ("06000", "Ankara")), ("İstiklal Caddesi", "Atatürk Bulvarı")),
    "IT": ((("90133", "Palermo"), ("20121", "Milano")), ("Via Roma", "Via Garibaldi")),
    "PL": ((("31-001", "Kraków"), ("00-001", "Warszawa")), ("ulica Floriańska", "ulica Długa")),
    "RO": ((("010011", "București"), ("400001", "Cluj-Napoca")), ("Strada Lipscani",)),
    "ES": ((("28013", "Madrid"), ("08001", "Barcelona")), ("Calle Mayor", "Calle de Alcalá")),
    "PT": ((("4050-001", "Porto"), ("1100-001", "Lisboa")), ("Rua de Santa Catarina",)),
    "CD": ((("", "Kinshasa"), ("", "Lubumbashi")), ("Avenue du Commerce", "Boulevard du 30 Juin")),
}

#: Nationalities of Belgian residents other than Belgian, with weights.
RESIDENT_NATIONALITIES = (
    ("NL", 14), ("FR", 16), ("IT", 12), ("MA", 9), ("RO", 9), ("PL", 7), ("ES", 6), ("PT", 5),
    ("TR", 4), ("DE", 4), ("CD", 2), ("LU", 1),
)
#: Nationalities of BIS persons (often cross-border workers), with weights.
BIS_NATIONALITIES = (
    ("FR", 22), ("NL", 20), ("PL", 10), ("RO", 10), ("DE", 8), ("LU", 5), ("PT", 5), ("ES", 5),
    ("IT", 5), ("TR", 4), ("MA", 3), ("CD", 2), ("BE", 1),
)
# fmt: on
