namespace Quanta.Models.Graph;

/// <summary>
/// Thrown when a graph cannot be executed: an unsupported operator or attribute (the message names the
/// op type and the node), a missing input, or inconsistent shapes.
/// </summary>
public sealed class GraphException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GraphException(string message, Exception? inner = null) : base(message, inner) { }
    /// <summary>Creates the exception.</summary>
    public GraphException() { }
    /// <summary>Creates the exception.</summary>
    public GraphException(string message) : base(message) { }
}
