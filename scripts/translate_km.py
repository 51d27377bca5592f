"""Fill Khmer translations into app/translations/km/LC_MESSAGES/messages.po from a table.

Usage: python scripts/translate_km.py  (after `make messages`). Entries already
translated are left alone; strings not in the table stay untranslated (English).
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / "app" / "translations" / "km" / "LC_MESSAGES" / "messages.po"

KHMER = {
    "Rescue Ledger": "សៀវភៅកត់ត្រាការសង្គ្រោះ",
    "Rescue Ledger — records for wildlife rescue centres": "សៀវភៅកត់ត្រាការសង្គ្រោះ — កំណត់ត្រាសម្រាប់មណ្ឌលសង្គ្រោះសត្វព្រៃ",
    "Main navigation": "ម៉ឺនុយចម្បង",
    "Menu": "ម៉ឺនុយ",
    "Close": "បិទ",
    "Home": "ទំព័រដើម",
    "Cases": "ករណី",
    "Animals": "សត្វ",
    "Housing": "ទីជម្រក",
    "Enclosures": "ទ្រុង",
    "Species": "ប្រភេទសត្វ",
    "Species catalogue": "បញ្ជីប្រភេទសត្វ",
    "Facilities": "មណ្ឌល",
    "Users": "អ្នកប្រើប្រាស់",
    "Audit log": "កំណត់ហេតុសវនកម្ម",
    "Change password": "ប្ដូរពាក្យសម្ងាត់",
    "API tokens": "សោ API",
    "Sign in": "ចូលប្រើ",
    "Sign out": "ចាកចេញ",
    "Email": "អ៊ីមែល",
    "Password": "ពាក្យសម្ងាត់",
    "Current password": "ពាក្យសម្ងាត់បច្ចុប្បន្ន",
    "New password": "ពាក្យសម្ងាត់ថ្មី",
    "New password again": "ពាក្យសម្ងាត់ថ្មីម្ដងទៀត",
    "Save the new password": "រក្សាទុកពាក្យសម្ងាត់ថ្មី",
    "Please sign in to continue.": "សូមចូលប្រើដើម្បីបន្ត។",
    "You are signed out.": "អ្នកបានចាកចេញហើយ។",
    "Wrong email or password, or the account is not active.":
        "អ៊ីមែល ឬពាក្យសម្ងាត់មិនត្រឹមត្រូវ ឬគណនីមិនសកម្ម។",
    "Welcome, %(name)s": "សូមស្វាគមន៍ %(name)s",
    "Go to the home page": "ទៅទំព័រដើម",
    "Previous": "មុន",
    "Next": "បន្ទាប់",
    "Page %(n)d of %(total)d": "ទំព័រ %(n)d នៃ %(total)d",
    "Please correct the fields marked below. Nothing was saved yet.":
        "សូមកែតម្រូវចន្លោះដែលបានសម្គាល់ខាងក្រោម។ មិនទាន់បានរក្សាទុកអ្វីនៅឡើយទេ។",
    "Not found": "រកមិនឃើញ",
    "Not allowed": "មិនអនុញ្ញាត",
    "Bad request": "សំណើមិនត្រឹមត្រូវ",
    "Sign-in needed": "ត្រូវចូលប្រើ",
    "Too many attempts": "ព្យាយាមច្រើនដងពេក",
    "Something went wrong": "មានបញ្ហាកើតឡើង",
    "File too large": "ឯកសារធំពេក",
    "Changed by someone else": "មាននរណាម្នាក់បានកែប្រែរួចហើយ",
    "Unavailable": "មិនអាចប្រើបាន",
    "Not allowed here": "មិនអនុញ្ញាតនៅទីនេះ",
    "Your facilities:": "មណ្ឌលរបស់អ្នក៖",
    "You work across the whole network.": "អ្នកធ្វើការនៅគ្រប់មណ្ឌលទាំងអស់។",
    "Name": "ឈ្មោះ",
    "Role": "តួនាទី",
    "Language": "ភាសា",
    "Keeper": "អ្នកថែទាំ",
    "Veterinarian": "ពេទ្យសត្វ",
    "Coordinator": "អ្នកសម្របសម្រួល",
    "Administrator": "អ្នកគ្រប់គ្រង",
    "Viewer": "អ្នកមើល",
}


def main() -> int:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="km")
    filled = 0
    for message in catalogue:
        if message.id and not message.string and isinstance(message.id, str) and message.id in KHMER:
            message.string = KHMER[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalogue, width=100)
    print(f"filled {filled} Khmer translations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
