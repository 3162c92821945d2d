"""A small labelled set of German idea pairs for a Dortmund city-centre challenge.

Each pair is (first idea, second idea, duplicate?). An idea is (title, text). The first
idea is published in a challenge together with every other pair's first idea and the
DISTRACTORS; the second is typed into the form, and the pair counts as "found" when the
first idea is among the shown similar ideas. Duplicates say the same thing in other
words; non-duplicates are deliberately near in topic or wording but ask for something
else (more bicycle stands versus more cycle lanes). Written for these tests by hand, so
the figures measured on it are a sanity check, not a benchmark.
"""

DUPLICATES = [
    (
        (
            "Mehr Bänke am Westenhellweg",
            "Auf dem Westenhellweg gibt es kaum Bänke zum Ausruhen. Ältere Menschen brauchen alle hundert Meter eine Möglichkeit, sich hinzusetzen.",
        ),
        (
            "Sitzgelegenheiten in der Fußgängerzone",
            "In der Fußgängerzone fehlen Sitzbänke, gerade für ältere Leute, die beim Einkaufen zwischendurch eine Pause brauchen.",
        ),
    ),
    (
        (
            "Öffentliche Toiletten in der City",
            "Es gibt in der Innenstadt zu wenige kostenlose öffentliche Toiletten. Besonders Familien und ältere Menschen suchen lange.",
        ),
        (
            "Kostenlose WCs am Friedensplatz",
            "Wer in der Innenstadt unterwegs ist, findet keine öffentliche Toilette. Bitte ein kostenloses WC am Friedensplatz bauen.",
        ),
    ),
    (
        (
            "Trinkbrunnen aufstellen",
            "Im Sommer wird es in der Innenstadt sehr heiß. Trinkbrunnen mit frischem Leitungswasser würden helfen.",
        ),
        (
            "Kostenloses Trinkwasser in der Innenstadt",
            "Öffentliche Wasserspender oder Trinkbrunnen, an denen man im Sommer seine Flasche auffüllen kann.",
        ),
    ),
    (
        (
            "Mehr Bäume auf dem Hansaplatz",
            "Der Hansaplatz ist im Sommer eine Hitzeinsel aus Stein. Große Bäume würden Schatten spenden.",
        ),
        (
            "Schatten am Hansaplatz durch Baumpflanzungen",
            "Bitte pflanzt Bäume auf dem Hansaplatz, damit es dort im Sommer Schatten gibt und man nicht in der Hitze steht.",
        ),
    ),
    (
        (
            "Fahrradparkhaus am Hauptbahnhof",
            "Am Hauptbahnhof fehlen sichere, überdachte Abstellplätze für Fahrräder. Viele Räder werden gestohlen.",
        ),
        (
            "Sichere Radabstellanlage am Bahnhof",
            "Ein bewachtes Fahrradparkhaus am Hauptbahnhof, damit Pendler ihr Rad nicht mehr an Laternen anschließen müssen.",
        ),
    ),
    (
        (
            "Wasserspielplatz in der Innenstadt",
            "Kinder brauchen im Sommer einen Ort mit Wasserfontänen zum Spielen, zum Beispiel im Stadtgarten.",
        ),
        (
            "Wasserspiele für Kinder im Stadtgarten",
            "Fontänen und Wasserspiele im Stadtgarten, damit Kinder an heißen Tagen planschen können.",
        ),
    ),
    (
        (
            "Mülleimer mit Pfandringen",
            "An den Mülleimern in der City sollten Pfandringe angebracht werden, damit niemand im Müll nach Flaschen wühlen muss.",
        ),
        (
            "Pfandflaschen-Halterungen an Abfallbehältern",
            "Halterungen für Pfandflaschen an den Abfalleimern der Innenstadt, so kann man Flaschen abstellen statt sie wegzuwerfen.",
        ),
    ),
    (
        (
            "Kostenloses WLAN in der Innenstadt",
            "Freies WLAN am Westenhellweg und Ostenhellweg für Besucherinnen, Besucher und Touristen.",
        ),
        (
            "Freies WLAN in der Fußgängerzone",
            "Öffentliches WLAN in der Fußgängerzone, damit Besucher ohne mobile Daten online gehen können.",
        ),
    ),
    (
        (
            "Leerstehende Läden für Künstler öffnen",
            "Die leeren Ladenlokale in der City könnten Künstlerinnen und Künstlern zur Zwischennutzung überlassen werden.",
        ),
        (
            "Zwischennutzung von Leerständen durch Kunst",
            "Leerstand in der Innenstadt für Ateliers und Ausstellungen von Künstlern nutzen, bis ein neuer Mieter kommt.",
        ),
    ),
    (
        (
            "Mehr Beleuchtung im Stadtgarten",
            "Abends ist der Stadtgarten sehr dunkel und viele fühlen sich unsicher. Mehr Laternen entlang der Wege bitte.",
        ),
        (
            "Stadtgarten nachts besser beleuchten",
            "Der Weg durch den Stadtgarten ist nachts stockdunkel. Eine bessere Beleuchtung würde das Sicherheitsgefühl stärken.",
        ),
    ),
    (
        (
            "Wochenmarkt auch am Samstagnachmittag",
            "Der Wochenmarkt am Hansaplatz endet samstags zu früh. Längere Öffnungszeiten bis 16 Uhr wären toll.",
        ),
        (
            "Längere Marktzeiten am Hansaplatz",
            "Der Markt auf dem Hansaplatz sollte samstags länger geöffnet haben, damit auch Berufstätige dort einkaufen können.",
        ),
    ),
    (
        (
            "Überdachte Fahrradständer an der Reinoldikirche",
            "Rund um die Reinoldikirche gibt es keine Fahrradständer. Überdachte Ständer würden das Rad vor Regen schützen.",
        ),
        (
            "Fahrradbügel bei der Reinoldikirche",
            "An der Reinoldikirche kann man sein Fahrrad nirgends anschließen. Bitte Fahrradbügel aufstellen.",
        ),
    ),
    (
        (
            "Grüne Dächer auf Haltestellen",
            "Die Wartehäuschen der Bushaltestellen mit Pflanzen begrünen, wie in Utrecht, für Bienen und Kühlung.",
        ),
        (
            "Begrünte Bushaltestellen",
            "Dächer von Bus- und Bahnhaltestellen bepflanzen: gut für Insekten und das Stadtklima.",
        ),
    ),
    (
        (
            "Spielplatz am Friedensplatz",
            "In der City gibt es keinen Spielplatz. Familien brauchen einen Ort, an dem Kinder beim Einkaufsbummel spielen können.",
        ),
        (
            "Spielgeräte für Kinder in der City",
            "Ein kleiner Spielplatz mit Klettergerüst am Friedensplatz, damit Kinder beim Einkaufen eine Pause haben.",
        ),
    ),
    (
        (
            "Tempo 30 auf dem Wallring",
            "Der Wallring ist laut und gefährlich. Tempo 30 würde den Lärm senken und Fußgänger schützen.",
        ),
        (
            "Geschwindigkeitsbegrenzung am Wall",
            "Auf dem Königswall und dem Burgwall sollte höchstens Tempo 30 erlaubt sein, wegen Lärm und Sicherheit.",
        ),
    ),
    (
        (
            "Sauberere Innenstadt durch mehr Reinigung",
            "Die Straßen der Innenstadt sind oft vermüllt. Die Stadtreinigung sollte häufiger fegen.",
        ),
        (
            "Häufigere Straßenreinigung in der City",
            "Mehr Reinigung der Straßen in der Innenstadt, besonders am Wochenende nach dem Nachtleben.",
        ),
    ),
    (
        (
            "Open-Air-Kino auf dem Friedensplatz",
            "Im Sommer Filme unter freiem Himmel auf dem Friedensplatz zeigen, mit Liegestühlen.",
        ),
        (
            "Sommerkino unter freiem Himmel",
            "Ein Freiluftkino in der Innenstadt im Sommer, zum Beispiel auf dem Friedensplatz.",
        ),
    ),
    (
        (
            "Schachbretter im Stadtgarten",
            "Große Bodenschachfelder im Stadtgarten, wo Jung und Alt zusammen spielen können.",
        ),
        (
            "Großes Schachspiel im Park",
            "Ein Freiluft-Schachfeld mit großen Figuren im Stadtgarten.",
        ),
    ),
    (
        (
            "Barrierefreie Bordsteine am Wall",
            "Die hohen Bordsteine an den Übergängen über den Wall sind für Rollstühle und Rollatoren ein Hindernis.",
        ),
        (
            "Abgesenkte Bordsteine für Rollstuhlfahrer",
            "An den Fußgängerüberwegen am Wall sollten die Bordsteine abgesenkt werden, damit man mit Rollstuhl oder Kinderwagen hinüberkommt.",
        ),
    ),
    (
        (
            "Mehr Mülleimer im Westpark",
            "Im Westpark liegen im Sommer überall Verpackungen herum, weil es zu wenige Mülleimer gibt.",
        ),
        (
            "Zusätzliche Abfalleimer im Westpark",
            "Nach schönen Sommertagen ist der Westpark voller Müll. Mehr und größere Abfalleimer aufstellen.",
        ),
    ),
    (
        (
            "Nachtbusse am Wochenende öfter",
            "Die Nachtbusse aus der Innenstadt fahren am Wochenende zu selten, man wartet oft eine Stunde.",
        ),
        (
            "Bessere Nachtverbindungen am Wochenende",
            "Am Wochenende nachts aus der City nach Hause zu kommen ist schwer. Die Nachtbusse sollten öfter fahren.",
        ),
    ),
    (
        (
            "Urban Gardening am Platz von Leeds",
            "Hochbeete, in denen Anwohnerinnen und Anwohner Gemüse und Kräuter anbauen können.",
        ),
        (
            "Gemeinschaftsgarten mit Hochbeeten",
            "Ein Gemeinschaftsgarten mit Hochbeeten für Kräuter und Gemüse, den Nachbarn gemeinsam pflegen.",
        ),
    ),
    (
        (
            "Brunnen am Alten Markt wieder in Betrieb nehmen",
            "Der Brunnen am Alten Markt ist seit Jahren trocken. Bitte wieder Wasser anstellen.",
        ),
        (
            "Alter-Markt-Brunnen reparieren",
            "Der Brunnen auf dem Alten Markt funktioniert nicht mehr. Eine Reparatur würde den Platz beleben.",
        ),
    ),
    (
        (
            "Autofreie Sonntage in der Innenstadt",
            "Einmal im Monat sonntags keine Autos in der Innenstadt, dafür Platz für Fahrräder, Kinder und Feste.",
        ),
        (
            "Innenstadt einmal im Monat ohne Autos",
            "Einmal im Monat den Wall für Autos sperren und für Radfahrer und Fußgänger öffnen, am besten sonntags.",
        ),
    ),
]

NON_DUPLICATES = [
    (
        (
            "Mehr Fahrradständer in der City",
            "Vor den Geschäften fehlen Abstellplätze für Fahrräder, man findet nie einen freien Ständer.",
        ),
        (
            "Mehr Radwege in der Innenstadt",
            "Radfahrer brauchen eigene, sichere Radwege auf dem Wall, getrennt von den Autos.",
        ),
    ),
    (
        (
            "Mehr Bäume in der Fußgängerzone",
            "Bäume in großen Kübeln am Westenhellweg für mehr Grün und Schatten.",
        ),
        (
            "Mehr Bänke in der Fußgängerzone",
            "Sitzbänke zum Ausruhen am Westenhellweg, damit man beim Einkaufen eine Pause machen kann.",
        ),
    ),
    (
        (
            "Öffentliche Toiletten am Hauptbahnhof",
            "Am Hauptbahnhof gibt es nur Toiletten, die Geld kosten. Bitte kostenlose Toiletten.",
        ),
        (
            "Wickelraum am Hauptbahnhof",
            "Eltern brauchen einen sauberen, ruhigen Wickelraum im Bahnhof, der auch nachts offen ist.",
        ),
    ),
    (
        (
            "Spielplatz im Stadtgarten erneuern",
            "Die Spielgeräte im Stadtgarten sind alt und teilweise kaputt. Neue Geräte für kleine Kinder.",
        ),
        (
            "Hundewiese im Stadtgarten",
            "Ein eingezäunter Auslauf für Hunde im Stadtgarten, damit Hunde frei laufen können.",
        ),
    ),
    (
        (
            "Weihnachtsmarkt verlängern",
            "Der Weihnachtsmarkt sollte bis Silvester geöffnet haben, viele haben erst zwischen den Jahren Zeit.",
        ),
        (
            "Weihnachtsbeleuchtung sparsamer gestalten",
            "Die Weihnachtsbeleuchtung in der City nur mit LED und kürzer betreiben, um Strom zu sparen.",
        ),
    ),
    (
        (
            "Parkgebühren in der City senken",
            "Parken in der Innenstadt ist zu teuer, die Kunden fahren lieber ins Einkaufszentrum auf der grünen Wiese.",
        ),
        (
            "Parkleitsystem verbessern",
            "Anzeigen, in welchem Parkhaus noch Plätze frei sind, damit weniger Suchverkehr entsteht.",
        ),
    ),
    (
        (
            "Kostenloser Nahverkehr am Samstag",
            "Bus und Bahn in die Innenstadt samstags kostenlos, um den Handel zu stärken.",
        ),
        (
            "Neue Bushaltestelle am Ostenhellweg",
            "Eine Haltestelle näher am Ostenhellweg, damit ältere Menschen kürzere Wege haben.",
        ),
    ),
    (
        (
            "Reinoldikirche nachts anstrahlen",
            "Die Reinoldikirche nachts farbig anstrahlen, als Wahrzeichen der Stadt.",
        ),
        (
            "Werbetafeln nachts abschalten",
            "Leuchtreklamen in der City nachts abschalten, um Insekten zu schützen und Strom zu sparen.",
        ),
    ),
    (
        (
            "Mehr Blumenbeete am Wall",
            "Bunte Blumenbeete auf den Grünstreifen des Walls, damit die Einfahrt in die Stadt freundlicher aussieht.",
        ),
        (
            "Grünstreifen seltener mähen",
            "Die Grünstreifen am Wall seltener mähen, damit Wildblumen für Bienen wachsen können.",
        ),
    ),
    (
        (
            "Street-Food-Markt am Friedensplatz",
            "Einmal im Monat ein Markt mit Essensständen aus aller Welt auf dem Friedensplatz.",
        ),
        (
            "Flohmarkt am Friedensplatz",
            "Ein regelmäßiger Flohmarkt auf dem Friedensplatz, wo Bürgerinnen und Bürger gebrauchte Sachen verkaufen.",
        ),
    ),
    (
        (
            "Videoüberwachung am Hauptbahnhof",
            "Kameras am Bahnhofsvorplatz, damit sich die Leute abends sicherer fühlen.",
        ),
        (
            "Mehr Sozialarbeit am Hauptbahnhof",
            "Streetworker für obdachlose und suchtkranke Menschen am Bahnhof, statt sie zu vertreiben.",
        ),
    ),
    (
        (
            "Skatepark in der Innenstadt",
            "Eine Fläche für Skater und BMX-Fahrer, zum Beispiel unter der Brücke am Hauptbahnhof.",
        ),
        (
            "Basketballplatz im Stadtgarten",
            "Ein Basketballplatz für Jugendliche im Stadtgarten, mit Körben und Flutlicht.",
        ),
    ),
    (
        (
            "E-Scooter-Parkzonen einrichten",
            "E-Scooter liegen überall auf den Gehwegen herum. Feste Parkzonen würden das Chaos beenden.",
        ),
        (
            "E-Scooter in der Fußgängerzone verbieten",
            "Das Fahren mit E-Scootern in der Fußgängerzone sollte verboten werden, es ist gefährlich für Fußgänger.",
        ),
    ),
    (
        (
            "Bücherschrank am Alten Markt",
            "Ein offener Bücherschrank, in dem man Bücher kostenlos tauschen kann.",
        ),
        (
            "Stadtbibliothek länger öffnen",
            "Die Stadt- und Landesbibliothek sollte abends und sonntags geöffnet haben.",
        ),
    ),
    (
        (
            "Kunst an Stromkästen",
            "Graue Stromkästen in der City von lokalen Künstlerinnen und Künstlern bemalen lassen.",
        ),
        (
            "Graffiti schneller entfernen",
            "Schmierereien an Hauswänden in der Innenstadt sollten schneller entfernt werden.",
        ),
    ),
    (
        (
            "Kostenloses WLAN in Bussen und Bahnen",
            "In Bussen und Bahnen der DSW21 freies WLAN anbieten, wie in anderen Städten.",
        ),
        (
            "Ladestationen für Handys",
            "Öffentliche Ladestationen für Handys an Sitzbänken, betrieben mit Solarstrom.",
        ),
    ),
    (
        (
            "Mehr Bio-Stände auf dem Wochenmarkt",
            "Auf dem Wochenmarkt sollte es mehr Stände mit regionalen Bio-Produkten geben.",
        ),
        (
            "Markthalle für Dortmund",
            "Eine überdachte Markthalle mit regionalen Produkten, die jeden Tag geöffnet hat.",
        ),
    ),
    (
        (
            "Fahrradstraße auf der Kampstraße",
            "Die Kampstraße zur Fahrradstraße machen, Autos nur noch für Anlieger.",
        ),
        (
            "Mehr Parkplätze an der Kampstraße",
            "An der Kampstraße fehlen Parkplätze für die Kundschaft der Geschäfte.",
        ),
    ),
    (
        (
            "Sonnensegel über dem Spielplatz",
            "Der Spielplatz am Stadtgarten braucht Sonnensegel, die Geräte werden im Sommer zu heiß.",
        ),
        (
            "Sonnenschutz an Bushaltestellen",
            "Sonnensegel oder Bäume an den Bushaltestellen am Wall, man wartet dort in der prallen Sonne.",
        ),
    ),
    (
        (
            "Konzerte auf dem Alten Markt",
            "Im Sommer kostenlose Konzerte lokaler Bands auf dem Alten Markt.",
        ),
        (
            "Nachtruhe am Alten Markt durchsetzen",
            "Nachts ist es am Alten Markt durch die Kneipen zu laut. Die Ruhezeiten sollten kontrolliert werden.",
        ),
    ),
]

# Further published ideas of the same challenge, about other things.
DISTRACTORS = [
    (
        "Dortmunder U abends länger öffnen",
        "Das Dortmunder U sollte donnerstags bis 22 Uhr geöffnet haben.",
    ),
    (
        "Stadtführungen in leichter Sprache",
        "Führungen durch die Innenstadt in leichter Sprache und mit Gebärdensprache.",
    ),
    (
        "Ladesäulen für Elektroautos",
        "Mehr Ladesäulen für Elektroautos in den Parkhäusern der City.",
    ),
    (
        "Mehrsprachige Wegweiser",
        "Wegweiser in der Innenstadt auch auf Englisch, Türkisch und Arabisch.",
    ),
    (
        "Repair-Café in einem leeren Laden",
        "Ein Repair-Café, in dem Ehrenamtliche kaputte Geräte reparieren.",
    ),
    (
        "Nachbarschaftsfest im Kreuzviertel",
        "Ein jährliches Straßenfest, damit sich Nachbarn kennenlernen.",
    ),
    (
        "Hitzeschutzplan für Obdachlose",
        "Im Sommer kühle Räume und Wasser für Menschen ohne Wohnung.",
    ),
    (
        "Digitale Anzeigetafeln für Veranstaltungen",
        "Bildschirme an zentralen Plätzen, die zeigen, was heute in der Stadt los ist.",
    ),
    ("Sport im Park kostenlos", "Kostenlose Yoga- und Fitnesskurse im Westpark an Sommerabenden."),
    (
        "Kinderbetreuung beim Einkaufen",
        "Eine Spielstube in der City, in der Eltern ihre Kinder für eine Stunde abgeben können.",
    ),
]

PAIRS = [(first, second, True) for first, second in DUPLICATES] + [
    (first, second, False) for first, second in NON_DUPLICATES
]
