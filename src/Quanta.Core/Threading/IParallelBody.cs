namespace Quanta.Core.Threading;

/// <summary>
/// Work item for <see cref="WorkerPool"/>: <see cref="Execute"/> is called once for every index of the loop, from
/// several threads at once. Implement it on a struct holding the loop's state (arrays and other references; not spans, since the
/// body crosses threads). All participants share one copy of the struct: treat its fields as read-only and write
/// results through references it holds.
/// </summary>
public interface IParallelBody
{
    /// <summary>Runs iteration <paramref name="index"/>.</summary>
    void Execute(int index);
}
