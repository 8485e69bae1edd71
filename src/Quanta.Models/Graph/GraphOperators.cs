namespace Quanta.Models.Graph;

/// <summary>Which ONNX operators (default domain) the graph executor supports.</summary>
public static class GraphOperators
{
    /// <summary>Supported op types.</summary>
    public static IReadOnlyCollection<string> Supported => OperatorRegistry.Supported;
}
