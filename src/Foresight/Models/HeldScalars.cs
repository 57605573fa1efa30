using TorchSharp;

namespace Foresight.Models;

/// <summary>
/// Scalars held for the process's life. TorchSharp 0.107's <c>a + b</c> on tensors converts the alpha 1 to a Scalar that
/// nothing keeps alive during the native call, so a garbage collection can finalise it while libtorch still reads it
/// (a rare "Expected false to be true ... toFloat" from add; dotnet/TorchSharp PRs #1434 and #1496). The hot paths
/// (the residual adds, every layer and step) pass these instead.
/// </summary>
internal static class HeldScalars
{
    public static readonly Scalar One = 1.0.ToScalar();
}
