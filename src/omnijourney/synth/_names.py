"""Embedded French name, street and commune lists with Zipf-like frequency weights."""

from __future__ import annotations

import unicodedata

import numpy as np

__all__ = [
    "CITIES",
    "CITY_WEIGHTS",
    "DOMAIN_TYPOS",
    "EMAIL_PROVIDERS",
    "EMAIL_PROVIDER_WEIGHTS",
    "FEMALE_FIRST_NAMES",
    "FIRST_NAMES",
    "FIRST_NAME_GENDERS",
    "FIRST_NAME_WEIGHTS",
    "MALE_FIRST_NAMES",
    "STREETS",
    "STREET_ABBREVIATIONS",
    "STREET_WEIGHTS",
    "SURNAMES",
    "SURNAME_WEIGHTS",
    "abbreviate_street",
    "fold_accents",
    "landline_zone",
    "slug",
    "zipf_weights",
]


def zipf_weights(n: int, exponent: float = 1.0, offset: float = 2.0) -> np.ndarray:
    """Normalised Zipf-Mandelbrot weights ``1 / (rank + offset) ** exponent`` for ranks 1..n.

    Parameters
    ----------
    n : int
        Number of items, listed from the most to the least common.
    exponent : float
        Steepness of the law; 1.0 is the classical Zipf law.
    offset : float
        Flattens the head of the distribution (the most common items are less dominant).

    Returns
    -------
    numpy.ndarray
        Float weights summing to one.
    """
    w = 1.0 / (np.arange(1, n + 1, dtype=np.float64) + offset) ** exponent
    return w / w.sum()


def fold_accents(text: str) -> str:
    """``text`` without diacritics (``"Hélène"`` -> ``"Helene"``, ``"Œ"`` -> ``"OE"``)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text: str) -> str:
    """Lower-case ASCII form of a name for email addresses (spaces and apostrophes removed)."""
    return fold_accents(text).lower().replace(" ", "").replace("'", "")


# fmt: off
# Ordered from the most to the least common among adults living in France.
FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Martine",
    "Christine", "Sandrine", "Valérie", "Monique", "Nicole", "Stéphanie", "Véronique",
    "Sophie", "Céline", "Chantal", "Patricia", "Anne", "Brigitte", "Julie", "Aurélie",
    "Émilie", "Caroline", "Laurence", "Christiane", "Jacqueline", "Dominique", "Camille",
    "Laura", "Sarah", "Léa", "Manon", "Pauline", "Chloé", "Emma", "Inès", "Mathilde",
    "Élodie", "Virginie", "Delphine", "Karine", "Audrey", "Hélène", "Claire", "Cécile",
    "Florence", "Corinne", "Danielle", "Denise", "Michèle", "Annie", "Josiane",
    "Élisabeth", "Marie-Claire", "Marie-Christine", "Anne-Marie", "Marie-Thérèse",
    "Marie-France", "Marie-Laure", "Marie-Hélène", "Jeanne", "Louise", "Alice", "Juliette",
    "Charlotte", "Lucie", "Marion", "Margaux", "Clara", "Anaïs", "Océane", "Justine",
    "Morgane", "Mélanie", "Marine", "Agnès", "Béatrice", "Geneviève", "Odile", "Colette",
    "Yvette", "Simone", "Paulette", "Madeleine", "Huguette", "Suzanne", "Germaine",
    "Gisèle", "Évelyne", "Maryse", "Muriel", "Pascale", "Fabienne", "Carole", "Noémie",
    "Zoé", "Jade", "Amandine", "Laetitia", "Jennifer", "Jessica", "Vanessa", "Alexandra",
    "Séverine", "Estelle", "Gaëlle", "Solène", "Maëlle", "Clémence", "Elsa", "Agathe",
    "Romane", "Eva", "Nadia", "Fatima", "Yasmine", "Leïla", "Myriam", "Sabrina",
    "Christelle", "Magali", "Nadine", "Bernadette", "Yvonne", "Jocelyne", "Claudine",
    "Annick", "Marie-José", "Éliane", "Régine", "Solange", "Thérèse", "Viviane", "Ginette",
    "Mireille", "Ophélie", "Coralie", "Aline", "Emmanuelle", "Gwenaëlle", "Maud", "Sonia",
)

MALE_FIRST_NAMES: tuple[str, ...] = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Patrick", "Nicolas", "Christophe",
    "Daniel", "Bernard", "Éric", "Frédéric", "Laurent", "Stéphane", "David", "Pascal",
    "Sébastien", "Julien", "Thierry", "Olivier", "Christian", "Jacques", "Thomas",
    "Alexandre", "Maxime", "Antoine", "Romain", "Vincent", "Guillaume", "Jérôme",
    "François", "Claude", "Gérard", "René", "Serge", "André", "Marcel", "Roger", "Robert",
    "Louis", "Henri", "Paul", "Georges", "Lucas", "Hugo", "Théo", "Nathan", "Léo", "Enzo",
    "Mathis", "Gabriel", "Raphaël", "Arthur", "Jules", "Adam", "Noah", "Ethan", "Tom",
    "Baptiste", "Quentin", "Kévin", "Anthony", "Jonathan", "Florian", "Mickaël", "Cédric",
    "Fabrice", "Franck", "Bruno", "Didier", "Gilles", "Yves", "Joël", "Denis", "Hervé",
    "Jean-Pierre", "Jean-Claude", "Jean-Luc", "Jean-Marc", "Jean-François", "Jean-Paul",
    "Jean-Michel", "Jean-Louis", "Jean-Jacques", "Jean-Marie", "Jean-Baptiste",
    "Pierre-Yves", "Jean-Yves", "Benoît", "Arnaud", "Mathieu", "Matthieu", "Jérémy",
    "Damien", "Yann", "Loïc", "Gaël", "Grégory", "Ludovic", "Sylvain", "Xavier",
    "Emmanuel", "Lionel", "Hubert", "Marc", "Luc", "Raymond", "Guy", "Maurice", "Lucien",
    "Émile", "Fernand", "Léon", "Albert", "Charles", "Yannick", "Régis", "Thibault",
    "Adrien", "Valentin", "Clément", "Victor", "Samuel", "Benjamin", "Mohamed", "Karim",
    "Rachid", "Mehdi", "Youssef", "Samir", "Jordan", "Dylan", "Timothée", "Gaëtan",
    "Aurélien", "Rémi", "Bastien", "Corentin", "Alexis", "Joseph",
)

FIRST_NAMES: tuple[str, ...] = FEMALE_FIRST_NAMES + MALE_FIRST_NAMES
FIRST_NAME_GENDERS: tuple[str, ...] = ("F",) * len(FEMALE_FIRST_NAMES) + ("M",) * len(
    MALE_FIRST_NAMES
)

# Ordered roughly by frequency (INSEE-like ranking), then rarer names and names with
# particles, so that a Zipf law over the rank makes Martin, Bernard, Dubois... frequent.
SURNAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
    "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David",
    "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
    "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc",
    "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
    "Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire",
    "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière",
    "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard", "Roche",
    "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq",
    "Guillaume", "Lecomte", "Lopez", "Jean", "Dupuy", "Guillot", "Hubert", "Berger",
    "Carpentier", "Sanchez", "Dupuis", "Moulin", "Louis", "Deschamps", "Huet", "Vasseur",
    "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet", "Adam", "Paris", "Poirier",
    "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier", "Ménard",
    "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez", "Le Gall",
    "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel",
    "Le Roux", "Cousin", "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff",
    "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber",
    "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez", "Guichard",
    "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin",
    "Da Silva", "Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud",
    "Antoine", "Hoarau", "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert",
    "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte", "Gonzalez", "Marechal", "Bouchard",
    "Camus", "Leduc", "Rousset", "Lebon", "Barbe", "Devaux", "Charrier", "Ferrand",
    "Guillon", "Riviere", "Laine", "Leconte", "Poulet", "Hoareau", "Fleurier", "Jourdan",
    "Marion", "Bousquet", "Chauvet", "Marin", "Bonnin", "Tanguy", "Baudry", "Vaillant",
    "Gomez", "Ollivier", "Buisson", "Hebert", "Bigot", "Le Bihan", "Texier", "Maillet",
    "Moreno", "Barre", "Lefort", "Godard", "Lagarde", "Rossi", "Jacques", "Tournier",
    "Guillet", "Delmas", "Guerin", "Dupré", "Benard", "Pons", "Cohen", "Leray", "Raynaud",
    "Cartier", "Gros", "Collignon", "Hamel", "Ferreira", "Dos Santos", "Pereira", "Diallo",
    "Lemaitre", "Navarro", "Blondel", "Lesage", "Leblond", "Mary", "Chevrier", "Bonneau",
    "Fabre-Martin", "Lambert-Dubois", "Granger", "Jolly", "Mounier", "Paquet", "Rigaud",
    "Verdier", "Bouvet", "Hardy", "Laroche", "Lecoq", "Besnard", "Courtois", "Didier",
    "Delattre", "Forestier", "Guilbert", "Riou", "Bazin", "Boulay", "Chauveau", "Ricard",
    "Langlais", "Merle", "Poncet", "Favre", "Marchetti", "Bréhier", "Tardieu", "Joubert",
    "Lenoir", "Hamelin", "Foucher", "Pinto", "Costa", "Ribeiro", "Martins", "Da Costa",
    "Lebreton", "Le Corre", "Le Guen", "Le Floch", "Le Bris", "Le Gal", "Le Meur",
    "Le Berre", "Le Moal", "Kerbrat", "Guéguen", "Morvan", "Quéré", "Salaün", "Jégou",
    "Bouteiller", "Desmoulins", "Delacroix", "Desjardins", "Dufresne", "Dujardin",
    "Duhamel", "Dumoulin", "Dupré-Lavigne", "Vallée", "Lemonnier", "Lefranc", "Lecocq",
    "Lacombe", "Laffont", "Lagrange", "Lamotte", "Larcher", "Laval", "Lavigne", "Marais",
    "Maury", "Mazet", "Méline", "Mignot", "Moine", "Monet", "Nguyen", "Tran", "Pham",
    "Benali", "Bensaïd", "Haddad", "Mansour", "Ben Ahmed", "Cherif", "Kaci", "Ouali",
    "Saïdi", "Traoré", "Coulibaly", "Kouassi", "Ndiaye", "Diop", "Sow", "Kowalski",
    "Nowak", "Schmidt", "Wagner", "Fischer", "Zimmermann", "Hoffmann", "Kieffer", "Keller",
    "Baumann", "Ferrari", "Romano", "Esposito", "Bruno", "Russo", "Giordano", "Colombo",
    "Santos", "Oliveira", "Rodrigues", "Alves", "Gonçalves", "Fernandes", "Sousa",
    "Mendes", "Carvalho", "Marques", "Teixeira", "Lopes", "Moulinier", "Pagès", "Puech",
    "Vigneron", "Bastide", "Castel", "Arnal", "Azéma", "Bonnefoy", "Cabanes", "Combes",
    "Cros", "Fabregat", "Gasc", "Roques", "Séguin", "Soulié", "Trouvé", "Vaissière",
    "Cazenave", "Etcheverry", "Irigoyen", "Larralde", "Mendiburu", "Harriague",
    "de La Fontaine", "d'Artois", "de Villeneuve", "de Lattre", "d'Aubigny", "de Montfort",
    "du Pontavice", "de Saint-Just", "d'Almeida", "de Oliveira", "Le Coz", "Le Roy",
    "Le Clerc", "Le Page", "Le Duc", "L'Hermitte", "N'Diaye", "D'Angelo", "Saint-Martin",
    "Saint-Pierre", "Lacoste-Morel", "Brunet-Lecomte", "Picard-Destelan", "Mahé", "Hénaff",
)

STREETS: tuple[str, ...] = (
    "rue de la Paix", "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
    "rue Pasteur", "avenue du Général de Gaulle", "rue Gambetta", "rue de la Gare",
    "place de l'Église", "chemin du Moulin", "impasse des Lilas", "rue des Écoles",
    "route Nationale", "rue du Château", "place de la Mairie", "rue Voltaire",
    "boulevard Carnot", "rue Jules Ferry", "rue Émile Zola", "avenue Anatole France",
    "avenue Foch", "boulevard Clemenceau", "rue de Verdun", "rue de la Liberté",
    "rue du 8 Mai 1945", "rue du 11 Novembre", "rue Saint-Martin", "allée des Tilleuls",
    "impasse des Acacias", "rue des Roses", "rue des Jardins", "avenue du Stade",
    "allée des Peupliers", "rue du Pont", "avenue de Paris", "route de Lyon",
    "rue du Commerce", "rue Louis Pasteur", "rue Marcel Pagnol", "rue Jean Moulin",
    "rue Pierre Curie", "avenue Marie Curie", "rue Albert Camus", "rue Molière",
    "rue Jean de La Fontaine", "chemin des Vignes", "chemin des Champs",
    "rue de la Fontaine", "chemin du Bois", "route de la Forêt", "chemin des Prés",
    "rue du Lavoir", "rue de la Poste", "place du Marché", "rue de Bretagne",
    "rue de Normandie", "avenue des Alpes", "rue Mozart", "rue Hector Berlioz",
    "allée Claude Debussy", "rue du Faubourg Saint-Honoré", "rue de Rivoli",
    "rue Montmartre", "rue La Fayette", "boulevard Haussmann", "allée des Mimosas",
    "impasse des Cerisiers", "allée des Pins", "rue des Chênes", "chemin de la Source",
    "boulevard de la Plage", "quai du Port", "rue de la Croix", "rue des Fleurs",
    "impasse des Rosiers", "avenue de Provence", "rue d'Alsace", "rue de Strasbourg",
    "rue Georges Brassens", "rue Jacques Prévert", "rue Paul Éluard", "rue Charles Péguy",
    "avenue Édouard Herriot", "rue Léon Blum", "boulevard Aristide Briand",
    "avenue Salvador Allende", "rue Pablo Picasso", "rue Henri Barbusse",
    "avenue du Maréchal Leclerc", "boulevard du Maréchal Joffre", "rue de la Résistance",
    "rue des Martyrs", "avenue de la Libération", "rue du Docteur Schweitzer",
    "avenue Paul Vaillant-Couturier", "rue Gabriel Péri", "rue Danton", "rue Condorcet",
    "rue Nationale", "rue Principale", "grande rue", "rue Neuve", "rue Haute", "rue Basse",
    "place de la Bastille", "place du Général Leclerc", "place Charles de Gaulle",
    "cours Mirabeau", "cours Lafayette", "quai de la Loire", "quai des Chartrons",
    "allée des Érables", "allée des Châtaigniers", "impasse du Verger",
    "impasse de la Forge", "chemin de la Croix Blanche", "chemin des Écoliers",
    "route de Paris", "route de Bordeaux", "route de Toulouse", "avenue de la Gare",
    "avenue de la Mer", "boulevard de la Liberté", "boulevard Gambetta",
    "boulevard Jean Jaurès", "rue Victor Hugo", "rue Jean Jaurès", "avenue Victor Hugo",
    "rue Lamartine", "rue Racine", "rue Corneille", "rue Alfred de Musset",
    "rue George Sand", "rue Colbert", "rue Sully", "rue Richelieu", "rue Mazarin",
    "rue Saint-Jacques", "rue Saint-Michel", "rue Saint-Pierre", "rue Sainte-Catherine",
    "rue Notre-Dame", "rue de l'Abbaye", "rue du Prieuré", "rue des Tanneurs",
    "rue des Tisserands", "rue des Forgerons", "rue de la Tuilerie", "rue des Moulins",
    "square des Platanes", "square Jean XXIII", "rue du Stade", "allée du Parc",
)

# (commune, postcode): real communes, several postcodes for the large cities. Ordered from the
# largest to the smallest, so that a Zipf law over the rank favours large cities.
CITIES: tuple[tuple[str, str], ...] = (
    ("Paris", "75015"), ("Marseille", "13008"), ("Lyon", "69003"), ("Toulouse", "31000"),
    ("Paris", "75011"), ("Nice", "06000"), ("Nantes", "44000"), ("Paris", "75018"),
    ("Montpellier", "34000"), ("Strasbourg", "67000"), ("Bordeaux", "33000"),
    ("Lille", "59000"), ("Paris", "75020"), ("Rennes", "35000"), ("Marseille", "13013"),
    ("Reims", "51100"), ("Paris", "75017"), ("Toulon", "83000"), ("Saint-Étienne", "42000"),
    ("Le Havre", "76600"), ("Grenoble", "38000"), ("Lyon", "69007"), ("Dijon", "21000"),
    ("Angers", "49000"), ("Paris", "75012"), ("Nîmes", "30000"), ("Villeurbanne", "69100"),
    ("Clermont-Ferrand", "63000"), ("Le Mans", "72000"), ("Aix-en-Provence", "13090"),
    ("Toulouse", "31200"), ("Brest", "29200"), ("Tours", "37000"), ("Amiens", "80000"),
    ("Limoges", "87000"), ("Annecy", "74000"), ("Perpignan", "66000"),
    ("Boulogne-Billancourt", "92100"), ("Metz", "57000"), ("Besançon", "25000"),
    ("Orléans", "45000"), ("Saint-Denis", "93200"), ("Argenteuil", "95100"),
    ("Rouen", "76000"), ("Montreuil", "93100"), ("Mulhouse", "68100"), ("Caen", "14000"),
    ("Nancy", "54000"), ("Paris", "75013"), ("Roubaix", "59100"), ("Tourcoing", "59200"),
    ("Nanterre", "92000"), ("Vitry-sur-Seine", "94400"), ("Créteil", "94000"),
    ("Avignon", "84000"), ("Poitiers", "86000"), ("Aubervilliers", "93300"),
    ("Colombes", "92700"), ("Dunkerque", "59140"), ("Aulnay-sous-Bois", "93600"),
    ("Versailles", "78000"), ("Courbevoie", "92400"), ("Rueil-Malmaison", "92500"),
    ("Pau", "64000"), ("Champigny-sur-Marne", "94500"), ("Béziers", "34500"),
    ("La Rochelle", "17000"), ("Saint-Maur-des-Fossés", "94100"), ("Cannes", "06400"),
    ("Calais", "62100"), ("Antibes", "06600"), ("Drancy", "93700"), ("Ajaccio", "20000"),
    ("Mérignac", "33700"), ("Saint-Nazaire", "44600"), ("Colmar", "68000"),
    ("Issy-les-Moulineaux", "92130"), ("Noisy-le-Grand", "93160"), ("Vénissieux", "69200"),
    ("Levallois-Perret", "92300"), ("Valence", "26000"), ("Bourges", "18000"),
    ("Pessac", "33600"), ("Ivry-sur-Seine", "94200"), ("Quimper", "29000"),
    ("La Seyne-sur-Mer", "83500"), ("Antony", "92160"), ("Villeneuve-d'Ascq", "59650"),
    ("Troyes", "10000"), ("Montauban", "82000"), ("Neuilly-sur-Seine", "92200"),
    ("Pantin", "93500"), ("Niort", "79000"), ("Chambéry", "73000"), ("Sarcelles", "95200"),
    ("Lorient", "56100"), ("Beauvais", "60000"), ("Maisons-Alfort", "94700"),
    ("Meaux", "77100"), ("Narbonne", "11100"), ("Hyères", "83400"), ("Vannes", "56000"),
    ("Fréjus", "83600"), ("La Roche-sur-Yon", "85000"), ("Bayonne", "64100"),
    ("Cholet", "49300"), ("Saint-Malo", "35400"), ("Laval", "53000"), ("Arles", "13200"),
    ("Blois", "41000"), ("Chartres", "28000"), ("Angoulême", "16000"), ("Belfort", "90000"),
    ("Bastia", "20200"), ("Albi", "81000"), ("Carcassonne", "11000"), ("Tarbes", "65000"),
    ("Gap", "05000"), ("Auxerre", "89000"), ("Mâcon", "71000"), ("Nevers", "58000"),
    ("Périgueux", "24000"), ("Agen", "47000"), ("Brive-la-Gaillarde", "19100"),
    ("Alès", "30100"), ("Saint-Brieuc", "22000"), ("Évreux", "27000"),
    ("Châteauroux", "36000"), ("Montluçon", "03100"), ("Charleville-Mézières", "08000"),
    ("Épinal", "88000"), ("Vichy", "03200"), ("Bourg-en-Bresse", "01000"),
    ("Saint-Quentin", "02100"), ("Laon", "02000"), ("Digne-les-Bains", "04000"),
    ("Privas", "07000"), ("Foix", "09000"), ("Rodez", "12000"), ("Aurillac", "15000"),
    ("Guéret", "23000"), ("Mont-de-Marsan", "40000"), ("Cahors", "46000"),
    ("Mende", "48000"), ("Vesoul", "70000"), ("Lons-le-Saunier", "39000"),
    ("Thonon-les-Bains", "74200"),
)

EMAIL_PROVIDERS: tuple[str, ...] = (
    "gmail.com", "orange.fr", "hotmail.fr", "free.fr", "yahoo.fr", "laposte.net",
    "sfr.fr", "outlook.fr", "wanadoo.fr",
)

# fmt: on

EMAIL_PROVIDER_WEIGHTS: np.ndarray = np.array(
    [0.34, 0.17, 0.13, 0.09, 0.07, 0.06, 0.05, 0.05, 0.04]
)
FIRST_NAME_WEIGHTS: np.ndarray = np.concatenate(
    [
        0.52 * zipf_weights(len(FEMALE_FIRST_NAMES), 1.0, 4.0),
        0.48 * zipf_weights(len(MALE_FIRST_NAMES), 1.0, 4.0),
    ]
)
SURNAME_WEIGHTS: np.ndarray = zipf_weights(len(SURNAMES), 0.9, 3.0)
STREET_WEIGHTS: np.ndarray = zipf_weights(len(STREETS), 0.7, 5.0)
CITY_WEIGHTS: np.ndarray = zipf_weights(len(CITIES), 0.8, 2.0)

# fmt: off
# First digit after +33 of geographic numbers, by metropolitan zone of the department.
_ZONE_OF_DEPARTMENT: dict[str, int] = {
    **dict.fromkeys(("75", "77", "78", "91", "92", "93", "94", "95"), 1),
    **dict.fromkeys(
        (
            "14", "18", "22", "27", "28", "29", "35", "36", "37", "41", "44", "45", "49",
            "50", "53", "56", "61", "72", "76", "85",
        ),
        2,
    ),
    **dict.fromkeys(
        (
            "02", "08", "10", "21", "25", "39", "51", "52", "54", "55", "57", "58", "59",
            "60", "62", "67", "68", "70", "71", "80", "88", "89", "90",
        ),
        3,
    ),
    **dict.fromkeys(
        (
            "01", "03", "04", "05", "06", "07", "13", "15", "20", "26", "30", "34", "38",
            "42", "43", "48", "63", "66", "69", "73", "74", "83", "84",
        ),
        4,
    ),
}  # fmt: skip


# How street types and titles are shortened in addresses ("av. du Gal de Gaulle").
STREET_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("rue ", "r "),
    ("avenue ", "av. "),
    ("boulevard ", "bd "),
    ("impasse ", "imp. "),
    ("chemin ", "ch. "),
    ("place ", "pl. "),
    ("allée ", "all. "),
    ("route ", "rte "),
    ("square ", "sq. "),
    ("quai ", "q. "),
    ("Général ", "Gal "),
    ("Maréchal ", "Mal "),
    ("Docteur ", "Dr "),
    ("Saint-", "St-"),
)
# A plausible mistyping of each email provider.
DOMAIN_TYPOS: dict[str, str] = {
    "gmail.com": "gmial.com",
    "orange.fr": "ornage.fr",
    "hotmail.fr": "hotmial.fr",
    "free.fr": "fre.fr",
    "yahoo.fr": "yahoo.ft",
    "laposte.net": "lapost.net",
    "sfr.fr": "sfr.fe",
    "outlook.fr": "outlok.fr",
    "wanadoo.fr": "wanadoo.ft",
}


def abbreviate_street(street: str) -> str:
    """``street`` with its type and titles abbreviated (``"avenue Foch"`` -> ``"av. Foch"``)."""
    for long, short in STREET_ABBREVIATIONS:
        street = street.replace(long, short)
    return street


def landline_zone(postcode: str) -> int:
    """First digit of a geographic phone number (1-5) for a metropolitan postcode."""
    return _ZONE_OF_DEPARTMENT.get(postcode[:2], 5)
