namespace Quanta.Core.Templates;

/// <summary>
/// Thrown when a chat template fails to parse (syntax error) or fails while rendering
/// (runtime error, including the template's own <c>raise_exception(...)</c>).
/// <see cref="Line"/> and <see cref="Column"/> are 1-based positions in the original template
/// source, or 0 when the error has no source position (for example a raise_exception message).
/// </summary>
public sealed class TemplateException : Exception
{
    /// <summary>1-based line of the offending source position, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column (UTF-16 units) of the offending source position, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>True when the error was raised by the template itself through <c>raise_exception</c>.</summary>
    public bool IsRaisedByTemplate { get; }

    /// <summary>The message without the position suffix.</summary>
    public string Reason { get; }

    /// <summary>Creates an exception without position information.</summary>
    public TemplateException() : this("Template error") { }

    /// <summary>Creates an exception without position information.</summary>
    public TemplateException(string message) : this(message, 0, 0, false) { }

    /// <summary>Creates an exception without position information, wrapping another.</summary>
    public TemplateException(string message, Exception innerException) : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>Creates an exception at a source position.</summary>
    public TemplateException(string reason, int line, int column, bool raisedByTemplate = false)
        : base(line > 0 ? $"{reason} (line {line}, column {column})" : reason)
    {
        Reason = reason;
        Line = line;
        Column = column;
        IsRaisedByTemplate = raisedByTemplate;
    }
}
