using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Training;

/// <summary>
/// Where training stands, everything needed to continue bit for bit: the position in the data
/// order (the order stream's state when the current epoch's permutation was drawn, and the next
/// batch's offset in it), the loss accumulators, the elapsed training time, and the model and
/// optimizer state. Stored as magic, SHA-256 of the payload, payload; written to a temporary file
/// and renamed, so a kill leaves either the old checkpoint or the new one.
/// </summary>
public sealed record TrainingPosition(
    int Step, int Epoch, int NextStart, ulong EpochOrderState, long SamplesSeen,
    double LossSum, int LossCount, double LastLoss, double TrainSeconds);

public static class TrainingCheckpoint
{
    private static readonly byte[] Magic = "FSCKPT01"u8.ToArray();

    public static void Save(string path, TrainingPosition position, nn.Module model, TorchSharp.Modules.AdamW optimizer)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(position.Step);
            writer.Write(position.Epoch);
            writer.Write(position.NextStart);
            writer.Write(position.EpochOrderState);
            writer.Write(position.SamplesSeen);
            writer.Write(position.LossSum);
            writer.Write(position.LossCount);
            writer.Write(position.LastLoss);
            writer.Write(position.TrainSeconds);
            model.save(writer);
            optimizer.save_state_dict(writer);
        }

        byte[] body = payload.ToArray();
        AtomicFile.WriteStream(path, file =>
        {
            file.Write(Magic);
            file.Write(SHA256.HashData(body));
            file.Write(body);
        });
    }

    /// <summary>Restores model and optimizer in place; throws <see cref="UserError"/> if the file is corrupt or does not fit.</summary>
    public static TrainingPosition Load(string path, nn.Module model, TorchSharp.Modules.AdamW optimizer)
    {
        if (!File.Exists(path)) throw new UserError($"there is no training checkpoint to resume from ({path})");
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = Magic.Length + 32;
        if (bytes.Length < headerLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new UserError($"{path} is not a Foresight training checkpoint");
        var body = bytes.AsSpan(headerLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(Magic.Length, 32)))
            throw new UserError($"{path} is corrupt: its checksum does not match its contents");

        using var reader = new BinaryReader(new MemoryStream(bytes, headerLength, bytes.Length - headerLength));
        var position = new TrainingPosition(
            Step: reader.ReadInt32(), Epoch: reader.ReadInt32(), NextStart: reader.ReadInt32(),
            EpochOrderState: reader.ReadUInt64(), SamplesSeen: reader.ReadInt64(),
            LossSum: reader.ReadDouble(), LossCount: reader.ReadInt32(), LastLoss: reader.ReadDouble(),
            TrainSeconds: reader.ReadDouble());
        try
        {
            model.load(reader);
            optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            throw new UserError($"{path} does not fit this run's model: {e.Message}");
        }
        return position;
    }
}
