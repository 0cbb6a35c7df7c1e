package cpr

// Name lists for the synthetic register. They are common names of each
// country, chosen to look real in demos and to put letters outside ASCII (æ,
// ø, å, ü, ł, ö …) in front of every part of the platform that shows,
// compares or transliterates names. Changing a list changes the generated
// people, and the golden test in testdata notices.

var danishFemaleNames = []string{
	"Anne", "Kirsten", "Mette", "Hanne", "Anna", "Helle", "Susanne", "Lene",
	"Maria", "Marianne", "Inge", "Lone", "Camilla", "Pia", "Louise", "Charlotte",
	"Tina", "Gitte", "Bente", "Ida", "Emma", "Sofie", "Freja", "Clara",
	"Laura", "Karen", "Jette", "Birthe", "Ulla", "Signe", "Astrid", "Ellen",
	"Alma", "Agnes", "Ella", "Olivia", "Karla", "Josefine", "Mathilde", "Nanna",
	"Julie", "Cecilie", "Line", "Maja", "Frida", "Lærke", "Bodil", "Grethe",
	"Åse", "Ingrid", "Tove", "Dorthe", "Rikke", "Trine", "Mia", "Vigga",
	"Liva", "Esther", "Asta", "Solveig", "Birgitte", "Dagmar", "Else", "Jytte",
	"Merete", "Malene", "Sanne", "Stine", "Søs", "Bjørg",
}

var danishMaleNames = []string{
	"Peter", "Jens", "Lars", "Michael", "Henrik", "Thomas", "Søren", "Jan",
	"Niels", "Anders", "Morten", "Jesper", "Mads", "Rasmus", "Hans", "Per",
	"Jørgen", "Martin", "Christian", "Ole", "Kim", "Poul", "Bjarne", "Frederik",
	"William", "Oscar", "Noah", "Lucas", "Carl", "Emil", "Victor", "Magnus",
	"Aksel", "Alfred", "Valdemar", "Malthe", "Villads", "Bjørn", "Jørn", "Knud",
	"Erik", "Finn", "Bent", "Kjeld", "Leif", "Svend", "Torben", "Ove",
	"Åge", "Steen", "Kasper", "Jonas", "Mikkel", "Tobias", "Sebastian", "Asger",
	"Holger", "Esben", "Troels", "Ebbe", "Gorm", "Thøger", "Halfdan", "Åsmund",
}

var danishFamilyNames = []string{
	"Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
	"Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen",
	"Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen", "Jakobsen", "Jacobsen", "Mikkelsen",
	"Olesen", "Frederiksen", "Laursen", "Henriksen", "Lund", "Holm", "Schmidt", "Eriksen",
	"Kristiansen", "Nissen", "Clausen", "Simonsen", "Svendsen", "Andreasen", "Iversen", "Jeppesen",
	"Mogensen", "Vestergaard", "Østergaard", "Nørgaard", "Kjær", "Bak", "Dahl", "Lauridsen",
	"Søndergaard", "Kjærgaard", "Bech", "Nygaard", "Højgaard", "Lykke", "Bækgaard", "Thygesen",
	"Skov", "Bruun", "Dam", "Frost", "Krogh", "Brøndum", "Lindholm", "Damgaard",
	"Fogh", "Ravn", "Aagaard", "Bødker", "Bærentzen", "Abildgaard",
}

// foreignCountry is a nationality for people without CPR (and a few foreign
// residents with one): its names and the shape of its passport numbers.
type foreignCountry struct {
	code                     string // ISO 3166-1 alpha-3
	female, male             []string
	familyFemale, familyMale []string // the same list where surnames do not inflect
	passport                 string   // '#' a digit, '@' a letter, '*' a letter or digit; others literal
}

var foreignCountries = []foreignCountry{
	{
		code:         "DEU",
		female:       []string{"Anna", "Lena", "Sophie", "Katrin", "Jutta", "Ursula", "Sabine", "Jana"},
		male:         []string{"Lukas", "Jürgen", "Stefan", "Matthias", "Jörg", "Felix", "Tobias", "Uwe"},
		familyFemale: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Schäfer", "Köhler", "Groß"},
		familyMale:   []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Schäfer", "Köhler", "Groß"},
		passport:     "C********",
	},
	{
		code:         "POL",
		female:       []string{"Anna", "Katarzyna", "Małgorzata", "Zofia", "Agnieszka", "Joanna", "Łucja"},
		male:         []string{"Jakub", "Piotr", "Tomasz", "Krzysztof", "Łukasz", "Paweł", "Michał"},
		familyFemale: []string{"Kowalska", "Nowak", "Wiśniewska", "Wójcik", "Lewandowska", "Zielińska", "Szymańska"},
		familyMale:   []string{"Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Lewandowski", "Zieliński", "Szymański"},
		passport:     "E@#######",
	},
	{
		code:         "UKR",
		female:       []string{"Olena", "Iryna", "Nataliia", "Oksana", "Tetiana", "Yuliia"},
		male:         []string{"Oleksandr", "Andrii", "Dmytro", "Serhii", "Mykola", "Yurii"},
		familyFemale: []string{"Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boiko"},
		familyMale:   []string{"Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boiko"},
		passport:     "F@######",
	},
	{
		code:         "SWE",
		female:       []string{"Anna", "Eva", "Maria", "Karin", "Kristina", "Linnéa", "Åsa"},
		male:         []string{"Erik", "Lars", "Karl", "Anders", "Johan", "Björn", "Göran"},
		familyFemale: []string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Åberg", "Öberg"},
		familyMale:   []string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Åberg", "Öberg"},
		passport:     "########",
	},
	{
		code:         "ROU",
		female:       []string{"Maria", "Elena", "Ioana", "Andreea", "Mihaela"},
		male:         []string{"Andrei", "Mihai", "Ion", "Ștefan", "Alexandru"},
		familyFemale: []string{"Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Constantinescu"},
		familyMale:   []string{"Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Constantinescu"},
		passport:     "0########",
	},
}
