namespace Quanta.Core.Tokenizers;

/// <summary>
/// GPT-2's reversible byte-to-character table used by byte-level BPE vocabularies: printable bytes
/// '!'..'~', '¡'..'¬' and '®'..'ÿ' map to the code point of the same value; the remaining 68 bytes map,
/// in increasing byte order, to U+0100, U+0101, ... (so space 0x20 is 'Ġ' U+0120, newline 'Ċ' U+010A).
/// </summary>
internal static class ByteLevelMap
{
    /// <summary>byteToChar[b]: the character standing for byte b.</summary>
    private static readonly char[] s_byteToChar = BuildByteToChar();
    /// <summary>charToByte[c] for c &lt; 0x144: the byte, or -1 when c stands for no byte.</summary>
    private static readonly short[] s_charToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var set = new bool[256];
        for (int b = 0x21; b <= 0x7E; b++) { map[b] = (char)b; set[b] = true; }
        for (int b = 0xA1; b <= 0xAC; b++) { map[b] = (char)b; set[b] = true; }
        for (int b = 0xAE; b <= 0xFF; b++) { map[b] = (char)b; set[b] = true; }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!set[b]) map[b] = (char)(256 + n++);
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var inv = new short[0x144];
        Array.Fill(inv, (short)-1);
        for (int b = 0; b < 256; b++) inv[s_byteToChar[b]] = (short)b;
        return inv;
    }

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => s_byteToChar[b];

    /// <summary>The byte <paramref name="c"/> stands for, or -1 when it stands for none.</summary>
    public static int CharToByte(int c) => (uint)c < (uint)s_charToByte.Length ? s_charToByte[c] : -1;

    /// <summary>Appends the byte-level form of the UTF-8 bytes of <paramref name="text"/> to <paramref name="sb"/>.</summary>
    public static void Encode(ReadOnlySpan<char> text, System.Text.StringBuilder sb)
    {
        Span<byte> buf = stackalloc byte[4];
        for (int i = 0; i < text.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf16(text[i..], out System.Text.Rune r, out int used) != System.Buffers.OperationStatus.Done)
                r = System.Text.Rune.ReplacementChar;
            i += used;
            int n = r.EncodeToUtf8(buf);
            for (int k = 0; k < n; k++) sb.Append(s_byteToChar[buf[k]]);
        }
    }
}
