using System.Buffers;
using System.Globalization;
using System.Text;

namespace Quanta.Core.Tokenizers;

/// <summary>
/// Unicode facts about one code point, as llama.cpp's unicode tables define them (generated there from
/// Python's <c>regex</c> module): one general-category class (\p{N}, \p{L}, \p{Z}, \p{M}, \p{P}, \p{S},
/// \p{C}; unassigned code points count as \p{C}) plus the White_Space property.
/// Computed here from .NET's own Unicode data, so results follow the runtime's Unicode version.
/// </summary>
[Flags]
internal enum CodepointFlags : ushort
{
    None = 0,
    Number = 0x0002,
    Letter = 0x0004,
    Separator = 0x0008,
    AccentMark = 0x0010,
    Punctuation = 0x0020,
    Symbol = 0x0040,
    Control = 0x0080,
    CategoryMask = 0x00FF,
    Whitespace = 0x0100,
}

/// <summary>Code point classification, case and decomposition helpers shared by the tokenizers.</summary>
internal static class Unicode
{
    private static readonly CodepointFlags[] s_latin1 = BuildLatin1();

    private static CodepointFlags[] BuildLatin1()
    {
        var t = new CodepointFlags[256];
        for (int i = 0; i < 256; i++) t[i] = Compute(i);
        return t;
    }

    /// <summary>Flags of <paramref name="cp"/>; <see cref="CodepointFlags.None"/> only outside 0..0x10FFFF.</summary>
    public static CodepointFlags Flags(int cp) => (uint)cp < 256 ? s_latin1[cp] : Compute(cp);

    private static CodepointFlags Compute(int cp)
    {
        if ((uint)cp > 0x10FFFF) return CodepointFlags.None;
        CodepointFlags f = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                => CodepointFlags.AccentMark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
                => CodepointFlags.Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                => CodepointFlags.Separator,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
            _ => CodepointFlags.Control, // Cc, Cf, Cs, Co, Cn
        };
        if (IsWhiteSpaceProperty(cp)) f |= CodepointFlags.Whitespace;
        return f;
    }

    /// <summary>The Unicode White_Space property (what Python's regex \s matches).</summary>
    public static bool IsWhiteSpaceProperty(int cp) =>
        cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>First code point of the full lower-case mapping (simple mapping; equal for all but a few).</summary>
    public static int ToLower(int cp) =>
        Rune.IsValid(cp) ? Rune.ToLowerInvariant(new Rune(cp)).Value : cp;

    /// <summary>First code point of the NFD decomposition of <paramref name="cp"/> (llama.cpp keeps only that one).</summary>
    public static int NfdFirst(int cp) => NfdTable.First(cp);

    /// <summary>
    /// Code points of <paramref name="text"/>; a lone surrogate becomes U+FFFD (as llama.cpp turns invalid
    /// UTF-8 into U+FFFD).
    /// </summary>
    public static int[] Codepoints(ReadOnlySpan<char> text)
    {
        var result = new int[text.Length];
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[i..], out Rune r, out int used) != OperationStatus.Done)
                r = Rune.ReplacementChar;
            result[n++] = r.Value;
            i += used;
        }
        return n == result.Length ? result : result[..n];
    }
}
