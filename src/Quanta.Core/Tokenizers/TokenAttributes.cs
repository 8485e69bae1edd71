namespace Quanta.Core.Tokenizers;

/// <summary>
/// Per-token attributes, bit-compatible with llama.cpp's <c>llama_token_attr</c>. GGUF stores a
/// <see cref="GgufTokenType"/> per token; <see cref="TokenAttributesExtensions.FromTokenType"/> converts it.
/// </summary>
[Flags]
public enum TokenAttributes
{
    /// <summary>No attribute (an unsupported token type).</summary>
    Undefined = 0,
    /// <summary>The unknown token (e.g. &lt;unk&gt;).</summary>
    Unknown = 1 << 0,
    /// <summary>Reserved and unused.</summary>
    Unused = 1 << 1,
    /// <summary>An ordinary vocabulary piece.</summary>
    Normal = 1 << 2,
    /// <summary>A control token (BOS, EOS, chat markers); never produced from plain text.</summary>
    Control = 1 << 3,
    /// <summary>A user-defined token: its text is always split out of the input, even without special parsing.</summary>
    UserDefined = 1 << 4,
    /// <summary>A byte-fallback token such as &lt;0x0A&gt;.</summary>
    Byte = 1 << 5,
    /// <summary>Text is normalized.</summary>
    Normalized = 1 << 6,
    /// <summary>When split out of text, whitespace before it is dropped.</summary>
    LStrip = 1 << 7,
    /// <summary>When split out of text, whitespace after it is dropped.</summary>
    RStrip = 1 << 8,
    /// <summary>Matches only as a single word.</summary>
    SingleWord = 1 << 9,
}

/// <summary>The token types GGUF stores in tokenizer.ggml.token_type (llama.cpp's <c>llama_token_type</c>).</summary>
public enum GgufTokenType
{
    /// <summary>Undefined.</summary>
    Undefined = 0,
    /// <summary>Normal piece.</summary>
    Normal = 1,
    /// <summary>Unknown token.</summary>
    Unknown = 2,
    /// <summary>Control token.</summary>
    Control = 3,
    /// <summary>User-defined token.</summary>
    UserDefined = 4,
    /// <summary>Unused.</summary>
    Unused = 5,
    /// <summary>Byte-fallback token.</summary>
    Byte = 6,
}

/// <summary>Conversions for <see cref="TokenAttributes"/>.</summary>
public static class TokenAttributesExtensions
{
    /// <summary>The attribute llama.cpp assigns to a GGUF token type (unknown values become Undefined).</summary>
    public static TokenAttributes FromTokenType(int tokenType) => (GgufTokenType)tokenType switch
    {
        GgufTokenType.Unknown => TokenAttributes.Unknown,
        GgufTokenType.Unused => TokenAttributes.Unused,
        GgufTokenType.Normal => TokenAttributes.Normal,
        GgufTokenType.Control => TokenAttributes.Control,
        GgufTokenType.UserDefined => TokenAttributes.UserDefined,
        GgufTokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };
}
