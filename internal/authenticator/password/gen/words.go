package main

// The word lists, white-space separated; "_" stands for a space people may or may not type.

// global holds the passwords at the top of every published breach-corpus ranking, in all languages.
const global = `
password passw0rd password1 passwort motdepasse contraseña senha parola wachtwoord salasana lösenord
passord haslo heslo jelszo sifre admin administrator root toor guest user login welcome welcome1
letmein trustno1 iloveyou i_love_you loveyou lovely loveme love123 iloveu secret secret1 hello
hello123 hellothere whatever changeme default temp temp123 test test123 testing tester qwerty
qwertyuiop qwerty123 azerty qwertz asdfgh asdfghjkl zxcvbnm zxcvbn football baseball basketball
soccer hockey golf tennis monkey dragon master shadow sunshine princess superman batman spiderman
ironman starwars pokemon mustang michael jennifer jordan jordan23 michelle charlie freedom
whatever ninja ashley bailey buster hunter hunter2 killer access access14 flower flowers
cheese computer internet google facebook instagram twitter youtube yahoo hotmail gmail outlook
apple samsung iphone android windows linux microsoft dell lenovo nokia sony playstation xbox
nintendo minecraft fortnite roblox zelda mario matrix maverick thunder ranger rangers harley
yamaha honda toyota ferrari porsche mercedes bmw audi volvo tesla corvette camaro
chocolate cookie cookies banana orange cherry strawberry pepper pumpkin butterfly sparky
tigger tiger lion eagle falcon phoenix dolphin panther jaguar wolf wolves bear bears cowboy
cowboys pirate pirates angel angels devil heaven hell jesus christ god blessed faith hope
money dollar dollars rich million success winner winter summer spring autumn
family friends friend lucky lucky7 magic merlin wizard hammer diamond silver golden gold
purple yellow green blue black white red pink shadow1 snoopy garfield scooby donald mickey
minnie daisy hannah jessica amanda nicole daniel andrew joshua matthew robert thomas
william george taylor summer1 qazwsx trustme freedom1 starlight moonlight sunflower
whatever1 iloveyou1 princess1 abc123 abcd1234 aa123456 a123456 123qwe qwe123 1qaz2wsx
zaq12wsx q1w2e3r4 1q2w3e4r asdf1234 asdfasdf qwerasdf letmein1 master1 dragon1 monkey1
football1 baseball1 superman1 batman1 michael1 charlie1 jordan1 shadow12 killer1
unknown nothing nopassword blank empty null undefined system server database oracle mysql
postgres sqlserver cisco router netgear linksys dlink tplink huawei zte raspberry pi raspberry
changeit changeme1 p@ssword pa55word passwd pass pass123 pass1234 mypassword mypass
newpassword oldpassword yourpassword thepassword secretpassword supersecret topsecret
letmein123 opensesame open_sesame abracadabra alohomora mellon friend_me speakfriend
`

// danish holds Danish words and phrases that Danes are known to choose, and the names of the
// services a Dane logs in to.
const danish = `
kodeord adgangskode hemmelig hemmeligt hemmelighed minkode mitkodeord mitpassword minadgangskode
nytkodeord nyadgangskode glemtkodeord kodeord1 password123 hejmeddig hej_med_dig hejsa hejhej
goddag godmorgen godnat farvel velkommen tillykke skål hygge hyggelig kærlighed kærlig
elskerdig jeg_elsker_dig jegelskerdig elsker_dig minskat skat skattefar skatter søde sødeste
smukke smukkeste prinsesse prins dronning konge kongen dronningen danmark dannebrog danskerne dansk
danske dansker københavn kobenhavn koebenhavn jylland sjælland fyn bornholm amager lolland
falster møn samsø ærø læsø fanø rømø mitid nemid nemlogin borger borgerdk eboks e-boks
netbank mobilepay danskebank nordea jyskebank sydbank nykredit arbejdernes_landsbank spar_nord
lunar skat.dk sundhed sygesikring cprnummer personnummer fødselsdag fodselsdag
mor far mormor morfar farmor farfar bedstemor bedstefar oldemor moster faster morbror farbror
søster bror broder datter søn sønnen datteren barn børn familien familie hjem hjemme huset
sommerhus kolonihave campingvogn båden bilen minbil cykel knallert traktor hest hesten heste
pony hund hunden hundehvalp hvalp kat katten killing kattekilling mis missekat bamse bamsen
kanin marsvin hamster fugl and ælling gris grisen ko køer får ged høne hane rævekage
fodbold håndbold badminton svømning ridning cykling løb golf tennis ishockey gymnastik
carlsberg tuborg grøn_tuborg øl snaps gammel_dansk akvavit lego legoland tivoli bakken
smørrebrød rugbrød frikadeller flæskesteg stegt_flæsk rødgrød rødgrød_med_fløde wienerbrød
kanelsnegl kage lagkage pølse hotdog remoulade leverpostej æbleskiver risalamande
jul julemand julenisse nisse glædelig_jul godjul glædeligjul nytår godt_nytår påske
pinse fastelavn sankthans mortensaften sommerferie vinterferie efterårsferie ferie weekend
fredag lørdag fredagsbar hyggeaften solskin regnvejr blæst snemand sne sol solen månen
stjerne stjerner himmel himlen havet stranden skoven blomst blomster rose roser tulipan
lyserød lilla grøn gul blå rød sort hvid orange
skole skolen gymnasium universitet arbejde arbejdet kontor kontoret firma firmaet chef
lærer pædagog sygeplejerske politi brandmand læge tandlæge mekaniker tømrer murer
computer computeren telefon mobil mobiltelefon internet nettet spil spillet gamer
lykke lykkelig glad glæde sjov sjovt fantastisk dejlig dejligt super superman
hemmelig123 qwerty1234 asdfgh123 ingenting intet ingen_ved_det gæt gætdet prøvigen
abekat abe aben banan æble pære jordbær hindbær citron appelsin vandmelon
fisk fiskeren sømand viking vikingerne thor odin freja loke valhalla midgård
hamlet havfrue den_lille_havfrue h.c.andersen andersen karen_blixen kierkegaard
`

// places holds Danish towns and districts and the world's best-known cities.
const places = `
aarhus århus odense aalborg ålborg esbjerg randers kolding horsens vejle roskilde herning
silkeborg næstved fredericia viborg køge holstebro taastrup slagelse hillerød sønderborg
svendborg hjørring holbæk frederikshavn nørresundby ringsted haderslev skive ølstykke
nykøbing kalundborg helsingør hørsholm lyngby gentofte gladsaxe ballerup hvidovre brøndby
rødovre glostrup albertslund ishøj greve vallensbæk frederiksberg nørrebro vesterbro østerbro
christianshavn christiania valby vanløse brønshøj amagerbro sydhavnen nordvest bispebjerg
skagen ribe tønder aabenraa varde grenaa ebeltoft thisted lemvig struer ringkøbing
rønne nexø gudhjem marstal maribo nakskov stege vordingborg faxe stevns odsherred
london paris berlin madrid rome roma amsterdam stockholm oslo helsinki reykjavik
newyork new_york losangeles chicago miami boston dallas houston sanfrancisco seattle
toronto vancouver montreal sydney melbourne tokyo beijing shanghai moscow istanbul
barcelona milano milan napoli venezia florence dublin brussels vienna wien prague praha
warsaw budapest lisbon lisboa athens hamburg münchen munich frankfurt köln malmö
göteborg gothenburg bergen trondheim dubai bangkok mumbai delhi cairo rio
`

// clubs holds football clubs: the Danish Superliga and 1st Division, and the ones Danes follow
// abroad.
const clubs = `
fckøbenhavn fckobenhavn fc_københavn fck1992 brøndby brondby brøndbyif brondbyif brøndby_if
agf aarhusgf agfaarhus aab aabfodbold aalborgbk midtjylland fcmidtjylland fcm_ulvene ulvene
nordsjælland fcnordsjælland fcn randersfc randers_fc silkeborgif odenseboldklub odensebk
esbjergfb viborgff vejleboldklub vejlebk lyngbybk sønderjyske sonderjyske sønderjyske_fodbold
hobroik acHorsens achorsens horsensfc fremad_amager b93 akademisk hvidovreif kolding_if
næstvedbk hb_køge hbkøge fredericiafc skive_ik vendsyssel thisted_fc helsingør_fc bk_frem
frem b1903 b1909 b1913 kb kjøbenhavns_boldklub landsholdet danmark_fodbold dbu roligans
liverpool liverpoolfc ynwa youllneverwalkalone arsenal gunners chelsea chelseafc manchester
manchesterunited manutd manunited mufc reddevils mancity manchestercity tottenham spurs
everton newcastle leeds leedsunited westham aston_villa astonvilla leicester
barcelona barca fcbarcelona visca_barca realmadrid real_madrid halamadrid atletico
juventus juve acmilan milan intermilan inter napoli roma lazio fiorentina
bayern bayernmunchen bayernmünchen fcbayern dortmund borussia bvb schalke hamburgersv
ajax psv feyenoord celtic rangers benfica porto sporting galatasaray fenerbahce besiktas
psg parissaintgermain marseille olympique lyon monaco malmöff malmoff aik djurgården
rosenborg molde brann bodøglimt
messi ronaldo cristiano neymar mbappe haaland zlatan beckham zidane maradona pele
eriksen schmeichel laudrup michael_laudrup brian_laudrup hojlund højlund kjær kjaer
`

// names holds common first names in Denmark (Danmarks Statistik's most frequent, all ages) and
// the English-speaking world.
const names = `
peter jens lars michael henrik thomas søren jan niels anders christian martin morten jesper
rasmus mads mikkel frederik lucas william oscar noah emil victor magnus oliver carl alfred
valdemar august malthe elias aksel anton arthur johan theo vilhelm otto konrad storm bertram
jacob jakob kasper mathias mathías nikolaj simon tobias jonas sebastian benjamin alexander
kristian kim brian allan bo ole poul per erik hans jørgen knud bent finn john steen torben
flemming kenneth claus carsten kurt preben leif arne tommy jimmy dennis ronnie kenn bjarne
anne kirsten mette hanne anna helle susanne lene maria marianne lone camilla pia louise
charlotte bente tina inge karen birgitte jette gitte lisbeth bettina trine rikke sanne
emma ida sofie freja clara laura alma ella agnes karla josefine olivia nora ellen astrid
liva luna lærke mathilde isabella asta frida vigga esther sofia alberte emilie julie
caroline cecilie amalie signe sara line maja nanna katrine christina stine malene
jennifer jessica amanda ashley sarah stephanie nicole elizabeth samantha lauren megan
rachel hannah emily chloe sophie grace lily charlotte olivia amelia isla mia ava
james john robert david richard joseph charles daniel matthew anthony mark steven paul
andrew joshua kevin brian george edward ronald timothy jason jeffrey ryan gary eric
harry jack charlie oscar jacob leo freddie alfie archie henry joshua thomas samuel
`

// calendar holds months, days and seasons in Danish and English.
const calendar = `
januar februar marts april maj juni juli august september oktober november december
january february march may june july october
mandag tirsdag onsdag torsdag fredag lørdag søndag
monday tuesday wednesday thursday friday saturday sunday
forår foraar sommer efterår efteraar vinter spring summer autumn fall winter
sommerferie vinterferie juleaften nytårsaften nytaarsaften christmas xmas merrychristmas
newyear happynewyear halloween easter valentine valentines birthday happybirthday
`

// fiction holds characters, shows and bands that top the breach lists.
const fiction = `
harrypotter hermione hogwarts gandalf frodo legolas aragorn lordoftherings starwars
skywalker darthvader yoda jedi startrek spock matrix neo morpheus terminator
simpsons homer bartsimpson southpark cartman familyguy friends gameofthrones
winteriscoming khaleesi daenerys jonsnow tyrion avengers marvel thor loki hulk
captainamerica wolverine deadpool joker harleyquinn gotham pikachu charizard sonic
metallica nirvana beatles ledzeppelin acdc queen eminem rihanna beyonce shakira
justinbieber onedirection taylorswift blink182 slipknot linkinpark greenday
aqua gasolin kim_larsen tv2 dad lukas_graham mø medina nik_og_jay
`
