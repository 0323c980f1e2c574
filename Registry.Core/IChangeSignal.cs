namespace Registry.Core;

/// <summary>
/// Carries <see cref="ChangeNotice"/>s between instances, so that a worker wakes and an open page
/// updates on instance B when a change was made through instance A. In-process when there is one
/// instance; PostgreSQL <c>LISTEN/NOTIFY</c> when several share a database. Notices are hints to look
/// again, never the data itself: a lost one costs at most a poll interval.
/// </summary>
public interface IChangeSignal
{
    /// <summary>Sends a notice to every instance, this one included (here at once, elsewhere soon). Call it after the change committed.</summary>
    void Publish(ChangeNotice notice);

    /// <summary>Raised on this instance for every notice, from whichever instance it came.</summary>
    event Action<ChangeNotice>? Received;
}
