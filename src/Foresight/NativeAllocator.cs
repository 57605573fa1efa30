using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Foresight;

/// <summary>
/// Keeps glibc from handing libtorch's tensor buffers back to the kernel between training steps.
/// By default glibc serves every allocation above its mmap threshold (a few MB) with a fresh mmap and
/// unmaps it on free, so each step's activations are new pages that fault in on first touch: measured
/// here, that made a default training step up to 40% slower than the multiplies in it warrant.
/// Serving those from the heap, and not trimming it, reuses the same pages step after step.
/// </summary>
internal static class NativeAllocator
{
    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3; // mallopt parameters, malloc.h

#pragma warning disable CA2255 // a library initializer on purpose: it must run before the first tensor, whichever program (CLI, tests) loads the library
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Tune()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            Mallopt(MmapThreshold, 32 << 20); // glibc's maximum: larger buffers still get their own mapping
            Mallopt(TrimThreshold, 1 << 30);
            Mallopt(TopPad, 64 << 20);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): it manages memory its own way, and only speed is at stake.
        }
    }

    /// <summary>Hands the freed heap back to the kernel (malloc_trim), so a measurement of peak memory starts from what is in use.</summary>
    internal static void ReleaseFreed()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
