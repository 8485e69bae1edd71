namespace Quanta.Models.Graph;

/// <summary>
/// One operator implementation, built once per node (attributes are parsed in the constructor).
/// <see cref="Run"/> computes outputs from inputs; <see cref="InferShapes"/> predicts output shapes from
/// input shapes (and constant input values when they are known), returning null entries where the shape
/// cannot be known without running.
/// </summary>
internal abstract class GraphOperator
{
    protected GraphOperator(GraphNode node) => Node = node;

    public GraphNode Node { get; }

    public abstract void Run(OpContext ctx);

    /// <summary>Output shapes, or null entries where unknown. Default: unknown.</summary>
    public virtual int[]?[] InferShapes(ShapeContext ctx) => new int[]?[Node.Outputs.Length];
}
