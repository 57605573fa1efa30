using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on one version requirement (a vernaux entry of .gnu.version_r) of an ELF64
/// little-endian shared library, so the loader accepts a libstdc++ that lacks that version.
/// Writes a patched copy next to the file and renames it over the original: a build output that
/// is a hard link into the NuGet cache is replaced, never written through.
/// </summary>
public sealed class WeakenGlibcxxRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public string Library { get; set; } = "";
    [Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        byte[] elf = File.ReadAllBytes(Library);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
            || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogError($"{Library}: not a 64-bit little-endian ELF file");
            return false;
        }

        long flagsOffset = FindVernauxFlags(elf, Version);
        if (flagsOffset < 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{Library}: no {Version} requirement; nothing to patch");
            return true;
        }

        ushort flags = BitConverter.ToUInt16(elf, (int)flagsOffset);
        if ((flags & VerFlgWeak) != 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{Library}: {Version} requirement already weak");
            return true;
        }

        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, flagsOffset);
        string temp = Library + ".weakening";
        File.WriteAllBytes(temp, elf);
        // Keep the package's timestamp so MSBuild's incremental copy sees an unchanged file and
        // does not bring the unpatched library back on the next build.
        File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(Library));
        File.Delete(Library);
        File.Move(temp, Library);
        Log.LogMessage(MessageImportance.High, $"Marked {Version} requirement weak in {Library}");
        return true;
    }

    /// <returns>File offset of vna_flags of the vernaux entry naming <paramref name="version"/>, or -1.</returns>
    private static long FindVernauxFlags(byte[] elf, string version)
    {
        long sectionHeaders = (long)BitConverter.ToUInt64(elf, 0x28);
        int headerSize = BitConverter.ToUInt16(elf, 0x3A);
        int headerCount = BitConverter.ToUInt16(elf, 0x3C);

        for (int i = 0; i < headerCount; i++)
        {
            long header = sectionHeaders + (long)i * headerSize;
            if (BitConverter.ToUInt32(elf, (int)header + 4) != ShtGnuVerneed) continue;

            long verneed = (long)BitConverter.ToUInt64(elf, (int)header + 0x18);
            int stringSection = (int)BitConverter.ToUInt32(elf, (int)header + 0x28);
            int needCount = (int)BitConverter.ToUInt32(elf, (int)header + 0x2C);
            long strings = (long)BitConverter.ToUInt64(elf, (int)(sectionHeaders + (long)stringSection * headerSize + 0x18));

            long need = verneed;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strings + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, name) == version) return aux + 4;
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return -1;
    }

    private static string ReadCString(byte[] bytes, long start)
    {
        long end = start;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
    }
}
