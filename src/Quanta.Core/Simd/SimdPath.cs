using System.Runtime.Intrinsics;

namespace Quanta.Core.Simd;

/// <summary>The vector width a kernel call ran with.</summary>
public enum SimdPath
{
    Scalar = 0,
    V128 = 128,
    V256 = 256,
    V512 = 512,
}

/// <summary>
/// What the running process can use. Kernels dispatch Vector512 -> Vector256 -> Vector128 -> scalar
/// on <c>VectorNNN.IsHardwareAccelerated</c> (plus the specific ISA check an integer kernel needs, e.g.
/// <c>Avx512BW.IsSupported</c>); the .NET runtime switches DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and
/// DOTNET_EnableHWIntrinsic=0 turn those off, which is how CI exercises every path.
/// </summary>
public static class SimdCapabilities
{
    /// <summary>The widest generic vector width that is hardware accelerated.</summary>
    public static SimdPath Widest =>
        Vector512.IsHardwareAccelerated ? SimdPath.V512 :
        Vector256.IsHardwareAccelerated ? SimdPath.V256 :
        Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar;
}
