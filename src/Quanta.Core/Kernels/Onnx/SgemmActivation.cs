namespace Quanta.Core.Kernels.Onnx;

/// <summary>The activation an SGEMM epilogue applies to each output after the bias (<see cref="SgemmParallel"/>).</summary>
public enum SgemmActivation
{
    /// <summary>Output as computed (plus bias).</summary>
    None,
    /// <summary>max(y, 0).</summary>
    Relu,
    /// <summary>GELU, erf form: y·½·(1 + erf(y/√2)) (<see cref="GeluKernel"/>).</summary>
    Gelu,
}
