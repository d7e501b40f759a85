package ai.minitron.tokenize;

import java.util.List;

/** Strings that stress byte-level tokenization: unicode, emoji, odd whitespace, specials. */
final class EdgeCases {
    private EdgeCases() {}

    static final List<String> STRINGS = List.of(
            "",
            " ",
            "Hello, world!",
            "  leading and trailing spaces  ",
            "tabs\t\tand\n\n\nnewlines\r\nand CRLF\r\n",
            "it's they're I'LL we'VE o'clock",
            "naïve café, Ærøskøbing, straße, ǅ",
            "Ελληνικά, русский, עברית, العربية, हिन्दी",
            "日本語のテキスト、中文文本、한국어",
            "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flag 🇺🇸 keycap 1️⃣",
            "a\u00a0\u00a0b end.\u00a0Next x\u2003\u2003y \u3000\u3000z",
            "p\u2028\u2028q k\u0085j zero\u200bwidth bom\ufeffhere",
            "combining e\u0301 vs é, math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, ℌ",
            "numbers 1234567890 3.14159 -42 1e-9 ½ ² ٣",
            "symbols ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
            "<|endoftext|>",
            "before<|endoftext|>after <|endoftext|> spaced<|endoftext|><|endoftext|>",
            "<|endoftext|",
            "\u0000\u0001\u001f\u007f control bytes",
            "\n\n\n");
}
