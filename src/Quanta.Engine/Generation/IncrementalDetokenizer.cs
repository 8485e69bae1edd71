using System.Text;
using Quanta.Core.Tokenizers;

namespace Quanta.Engine.Generation;

/// <summary>
/// Turns a stream of generated tokens into text one token at a time: each token's UTF-8 piece is fed to a stateful
/// UTF-8 decoder, so a character whose bytes span several tokens comes out whole with the token that completes it and
/// invalid sequences become U+FFFD (as a one-shot decode of all the bytes would). Control tokens render as nothing.
/// SentencePiece vocabularies that add a dummy space prefix drop one leading space of a piece that follows BOS, as
/// llama2.c and SentencePiece's decoder do. Allocates only in the constructor. Not thread-safe; one per sequence.
/// </summary>
internal sealed class IncrementalDetokenizer
{
    private readonly ITokenizer _tokenizer;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly char[] _chars;   // [max piece bytes + 8]: decoded characters of one piece
    private readonly bool _stripSpaceAfterBos;
    private int _previous;

    /// <summary>Creates a detokenizer; <paramref name="maxPieceBytes"/> is the longest token piece of the vocabulary.</summary>
    public IncrementalDetokenizer(ITokenizer tokenizer, int maxPieceBytes)
    {
        _tokenizer = tokenizer;
        _chars = new char[maxPieceBytes + 8];
        _stripSpaceAfterBos = tokenizer is VocabTokenizer { Kind: TokenizerKind.SentencePiece, AddSpacePrefix: true };
        _previous = -1;
    }

    /// <summary>Starts a new sequence whose last prompt token is <paramref name="lastPromptToken"/> (−1: none).</summary>
    public void Reset(int lastPromptToken)
    {
        _decoder.Reset();
        _previous = lastPromptToken;
    }

    /// <summary>Decodes <paramref name="token"/>'s piece; the returned span (valid until the next call) may be empty.</summary>
    public ReadOnlySpan<char> Append(int token)
    {
        ReadOnlySpan<byte> piece = _tokenizer.TokenToPiece(token, renderSpecial: false);
        if (_stripSpaceAfterBos && _previous >= 0 && _previous == _tokenizer.Bos && piece.Length > 0 && piece[0] == (byte)' ')
            piece = piece[1..];
        _previous = token;
        int n = _decoder.GetChars(piece, _chars, flush: false);
        return _chars.AsSpan(0, n);
    }

    /// <summary>End of the sequence: bytes of an unfinished character come out as U+FFFD.</summary>
    public ReadOnlySpan<char> Flush()
    {
        int n = _decoder.GetChars([], _chars, flush: true);
        return _chars.AsSpan(0, n);
    }
}
