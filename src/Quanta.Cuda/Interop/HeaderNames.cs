using System.Text;

namespace Quanta.Cuda.Interop;

/// <summary>Spells our enum members the way NVIDIA's headers do (OutOfMemory → OUT_OF_MEMORY).</summary>
internal static class HeaderNames
{
    public static string Of<TEnum>(int value, string prefix, string headerType) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(typeof(TEnum), value)) return $"{headerType} {value}";
        string name = Enum.GetName(typeof(TEnum), value)!;
        var sb = new StringBuilder(prefix);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }
}
