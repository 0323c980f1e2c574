namespace Registry.Core;

/// <summary>The change signal of a single instance: a notice is received the moment it is published.</summary>
public sealed class InProcessChangeSignal : IChangeSignal
{
    public event Action<ChangeNotice>? Received;

    public void Publish(ChangeNotice notice) => Received?.Invoke(notice);
}
