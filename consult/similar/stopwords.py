"""Words that say nothing about what an idea is about, in German and English.

Besides grammar words, a few words that almost every idea of a city challenge uses
("Innenstadt", "bitte", "mehr"): left in, they would make every idea look similar.
Compared lower-case, after the words are split on anything that is not a letter or digit.
"""

GERMAN = """
aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch
auf aus bei beim bin bis bist bitte da dabei dadurch dafür dagegen damit dann dar daran
darauf darin darum das dass dein deine dem den denn der des dessen deshalb die dies diese
diesem diesen dieser dieses doch dort du durch ein eine einem einen einer eines einfach
einmal er es etwa etwas euch euer für gegen gibt gut hab habe haben hat hatte hier hin
hinter ich ihm ihn ihnen ihr ihre im immer in ins ist ja jede jedem jeden jeder jedes
jetzt kann kein keine keinem keinen keiner können könnte könnten man manche mehr mein meine
mich mir mit möchte muss müssen müsste nach neue neuen neuer nicht nichts noch nun nur ob
oder ohne oft schon sehr sein seine sich sie sind so soll sollen sollte sollten sondern
sowie statt über um und uns unser unsere unter viel viele vom von vor wann war waren warum
was weil weiter welche wenn wer werden wie wieder wir wird wo wollen würde würden zu zum
zur zwischen
dortmund innenstadt city stadt idee ideen vorschlag bessere besser
"""

ENGLISH = """
a about above after again all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me
might more most must my no nor not now of off on once only or other our ours out over own
please same she should so some such than that the their them then there these they this
those through to too under until up very was we were what when where which while who why
will with would you your
new better idea ideas town centre center
"""

STOP_WORDS = frozenset(GERMAN.split()) | frozenset(ENGLISH.split())
