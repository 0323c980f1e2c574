using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Registry.Core;

namespace Registry.Data.PostgreSql;

/// <summary>
/// The change signal across instances: a notice is received here at once and sent to the others with
/// <c>pg_notify</c> on the channel <see cref="Channel"/>, which every instance <c>LISTEN</c>s to on a
/// connection of its own. Its own notices come back and are dropped by their instance id. When the
/// listening connection drops, it reconnects and raises a <see cref="ChangeTopics.Resync"/>, because
/// notices sent meanwhile are lost.
/// </summary>
internal sealed class PostgreSqlChangeSignal(IOptions<DatabaseOptions> options, ILogger<PostgreSqlChangeSignal> logger) : BackgroundService, IChangeSignal
{
    public const string Channel = "registry_changes";

    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(2);
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(
        new NpgsqlConnectionStringBuilder(options.Value.ConnectionString) { KeepAlive = 15 }.ConnectionString);

    public event Action<ChangeNotice>? Received;

    public void Publish(ChangeNotice notice)
    {
        Raise(notice);
        _ = SendAsync(notice);
    }

    private async Task SendAsync(ChangeNotice notice)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT pg_notify(@channel, @payload)");
            command.Parameters.AddWithValue("channel", Channel);
            command.Parameters.AddWithValue("payload", JsonSerializer.Serialize(new Message(_instance, notice.Topic, notice.Model, notice.Version)));
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Other instances look again at their next poll; nothing is lost but a moment.
            logger.LogWarning(ex, "Could not send a change notice to the other instances");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                if (!first) Raise(new ChangeNotice(ChangeTopics.Resync, null, 0));
                first = false;
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Lost the change-notice connection to PostgreSQL; reconnecting in {Seconds} s", Reconnect.TotalSeconds);
                first = false;
                try { await Task.Delay(Reconnect, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        Message? message;
        try
        {
            message = JsonSerializer.Deserialize<Message>(e.Payload);
        }
        catch (JsonException)
        {
            logger.LogWarning("Ignored a malformed change notice on {Channel}", Channel);
            return;
        }
        if (message is null || message.Instance == _instance) return;
        Raise(new ChangeNotice(message.Topic, message.Model, message.Version));
    }

    private void Raise(ChangeNotice notice)
    {
        try
        {
            Received?.Invoke(notice);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "A change-notice handler failed");
        }
    }

    public override void Dispose()
    {
        _dataSource.Dispose();
        base.Dispose();
    }

    private sealed record Message(string Instance, string Topic, string? Model, int Version);
}
