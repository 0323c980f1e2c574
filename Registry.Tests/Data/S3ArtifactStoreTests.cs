using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Registry.Core;
using Registry.Core.Storage;
using Registry.Data;
using Registry.Data.S3;

namespace Registry.Tests.Data;

/// <summary>
/// The S3 store against a real S3-compatible server (s3rver, which ./test.sh starts): at
/// REGISTRY_TEST_S3_URL, bucket REGISTRY_TEST_S3_BUCKET (default registry-tests), and s3rver's folder
/// REGISTRY_TEST_S3_DIRECTORY for what it cannot list. Each test writes under a prefix of its own, so
/// tests running side by side never see each other's objects.
/// </summary>
[Trait("Category", "S3")]
public sealed class S3ArtifactStoreTests : IAsyncLifetime
{
    private const string Credential = "S3RVER";
    private const int MiB = 1024 * 1024;

    private readonly string _prefix = $"tests/{Guid.NewGuid():N}/";
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"registry-s3-{Guid.NewGuid():N}");
    private ServiceProvider? _services;

    private ServiceProvider Services => _services ??= Build(new Dictionary<string, string?>());
    private IArtifactStore Store => Services.GetRequiredService<IArtifactStore>();
    private IArtifactMaintenance Maintenance => Services.GetRequiredService<IArtifactMaintenance>();
    private IAmazonS3 Client => Services.GetRequiredService<IAmazonS3>();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            foreach (var key in await ObjectKeysAsync("")) await Client.DeleteObjectAsync(Bucket, key);
            await _services.DisposeAsync();
        }
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task StagedAndCommitted20MiBFile_ReadsBackByteExact_UnderItsDigest()
    {
        var bytes = RandomBytes(20 * MiB);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        await using var staged = await StageAsync(bytes);
        Assert.Equal(sha, staged.Sha256);
        Assert.Equal(bytes.Length, staged.SizeBytes);
        var key = await Store.CommitAsync(staged, CancellationToken.None);

        Assert.Equal(StorageKeys.Of(sha), key);
        Assert.Equal([_prefix + key], await ObjectKeysAsync(""));
        await using var read = await Store.OpenReadAsync(key, 0, CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(sha, Convert.ToHexStringLower(await SHA256.HashDataAsync(read)));
        Assert.Equal(bytes.Length, await Store.GetSizeAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task ReadFromAnOffset_ReturnsExactlyTheTail_AndNothingFromTheEnd()
    {
        var bytes = RandomBytes(3 * MiB + 12_345);
        var key = await StageAndCommitAsync(bytes);

        const int offset = 2 * MiB + 777;
        await using (var tail = await Store.OpenReadAsync(key, offset, CancellationToken.None))
        {
            Assert.NotNull(tail);
            Assert.Equal(bytes.AsSpan(offset).ToArray(), await ReadAllAsync(tail));
        }
        await using var end = await Store.OpenReadAsync(key, bytes.Length, CancellationToken.None);
        Assert.NotNull(end);
        Assert.Empty(await ReadAllAsync(end));
    }

    [Fact]
    public async Task MissingKey_OpenSizeAndLocalCopyAreNull()
    {
        var key = StorageKeys.Of(Convert.ToHexStringLower(SHA256.HashData("never stored"u8)));

        Assert.Null(await Store.OpenReadAsync(key, 0, CancellationToken.None));
        Assert.Null(await Store.OpenReadAsync(key, 10, CancellationToken.None));
        Assert.Null(await Store.GetSizeAsync(key, CancellationToken.None));
        Assert.Null(await Store.GetLocalCopyAsync(key, CancellationToken.None));
        await Store.DeleteAsync(key, CancellationToken.None);
    }

    [Fact]
    public async Task KeyThatIsNotAContentAddress_IsRefusedBeforeReachingTheBucket()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync("../staging/x", 0, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync("sha256/../../other", CancellationToken.None));
    }

    [Fact]
    public async Task LocalCopy_HoldsTheBytes_AndIsDeletedOnDispose()
    {
        var bytes = RandomBytes(9 * MiB + 5);
        var key = await StageAndCommitAsync(bytes);

        var copy = await Store.GetLocalCopyAsync(key, CancellationToken.None);
        Assert.NotNull(copy);
        Assert.StartsWith(Path.Combine(_dataDirectory, "tmp"), copy.Path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(copy.Path));
        await copy.DisposeAsync();

        Assert.False(File.Exists(copy.Path));
        Assert.Equal(bytes.Length, await Store.GetSizeAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task UploadPastTheLimit_IsTooLarge_AndLeavesNoStagingObjectOrUpload()
    {
        // Past the first 8 MiB part, so that a multipart upload had been started and must be aborted.
        var result = await Store.StageAsync(new MemoryStream(RandomBytes(20 * MiB)), maxBytes: 12 * MiB, CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal(ErrorKind.TooLarge, result.Error!.Kind);
        Assert.Empty(await ObjectKeysAsync(""));
        Assert.Empty(await UnfinishedUploadsAsync());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDirectory, "tmp")));
    }

    [Fact]
    public async Task DiscardedStagedUpload_LeavesNothing()
    {
        var staged = await StageAsync(RandomBytes(17 * MiB));
        // Past one part: the bytes wait in an unfinished multipart upload for the commit.
        Assert.Empty(await ObjectKeysAsync("staging-"));
        Assert.Single(await UnfinishedUploadsAsync());

        await staged.DisposeAsync();

        Assert.Empty(await ObjectKeysAsync(""));
        Assert.Empty(await UnfinishedUploadsAsync());
    }

    [Fact]
    public async Task StaleStagingSweep_RemovesStagingOlderThanTheCutoff_AndKeepsNewer()
    {
        await using var staged = await StageAsync(RandomBytes(MiB + 3));
        var staging = Assert.Single(await ObjectKeysAsync("staging-"));

        var keptByAPastCutoff = await Maintenance.DeleteStaleStagingAsync(DateTimeOffset.UtcNow.AddHours(-1), CancellationToken.None);
        Assert.Empty(keptByAPastCutoff);
        Assert.Equal([staging], await ObjectKeysAsync("staging-"));

        var removed = await Maintenance.DeleteStaleStagingAsync(DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None);
        Assert.Contains(staging[_prefix.Length..], removed);
        Assert.Empty(await ObjectKeysAsync("staging-"));
    }

    [Fact]
    public async Task List_ReturnsEveryCommittedObject_WithSizeAndAge()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var first = await StageAndCommitAsync(RandomBytes(1000));
        var second = await StageAndCommitAsync(RandomBytes(9 * MiB));

        var listed = new List<StoredObject>();
        await foreach (var item in Maintenance.ListAsync(CancellationToken.None)) listed.Add(item);

        Assert.Equal(new[] { first, second }.Order(), listed.Select(o => o.StorageKey).Order());
        Assert.Equal(1000, listed.Single(o => o.StorageKey == first).SizeBytes);
        Assert.Equal(9 * MiB, listed.Single(o => o.StorageKey == second).SizeBytes);
        Assert.All(listed, o => Assert.InRange(o.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task StartupCheck_MissingBucket_NamesTheBucketAndTheSetting_NotTheSecret()
    {
        var bucket = $"no-such-bucket-{Guid.NewGuid():N}"[..40];
        await using var services = Build(new() { ["Registry:Storage:S3:BucketName"] = bucket });

        var error = await Assert.ThrowsAsync<StartupException>(() => RunChecksAsync(services));

        Assert.Contains($"'{bucket}'", error.Message);
        Assert.Contains("Registry:Storage:S3:BucketName", error.Message);
        Assert.DoesNotContain(Credential, error.Message);
    }

    [Fact]
    public async Task StartupCheck_UnknownCredentials_NameTheCredentialSettings_NotTheSecret()
    {
        // s3rver checks the access key id (not SigV4 signatures), so an unknown key is what it refuses.
        const string secret = "not-the-right-secret-4c1d";
        await using var services = Build(new() { ["Registry:Storage:S3:AccessKey"] = "UNKNOWNKEY", ["Registry:Storage:S3:SecretKey"] = secret });

        var error = await Assert.ThrowsAsync<StartupException>(() => RunChecksAsync(services));

        Assert.Contains("Registry:Storage:S3:AccessKey", error.Message);
        Assert.Contains("Registry:Storage:S3:SecretKey", error.Message);
        Assert.DoesNotContain(secret, error.Message);
    }

    [Fact]
    public async Task StartupCheck_ExistingBucket_Passes()
    {
        await RunChecksAsync(Services);
    }

    [Fact]
    public async Task StartupCheck_NothingListeningAtTheEndpoint_NamesServiceUrl()
    {
        await using var services = Build(new(), requireServer: false);

        var error = await Assert.ThrowsAsync<StartupException>(() => RunChecksAsync(services));

        Assert.Contains("Registry:Storage:S3:ServiceUrl", error.Message);
        Assert.Contains("http://127.0.0.1:1", error.Message);
        Assert.DoesNotContain(Credential, error.Message);
    }

    [Fact]
    public void MissingBucketName_StopsTheStart_NamingTheSetting()
    {
        using var services = Build(new() { ["Registry:Storage:S3:BucketName"] = "" }, requireServer: false);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<S3StorageOptions>>().Value);

        Assert.Contains("Registry:Storage:S3:BucketName", error.Message);
    }

    private static string Bucket => Environment.GetEnvironmentVariable("REGISTRY_TEST_S3_BUCKET") is { Length: > 0 } b ? b : "registry-tests";

    private static string ServerUrl => Environment.GetEnvironmentVariable("REGISTRY_TEST_S3_URL") is { Length: > 0 } url
        ? url
        : throw new InvalidOperationException(
            "REGISTRY_TEST_S3_URL is not set, and these tests (Category=S3) need a real S3-compatible server. " +
            "./test.sh starts s3rver and sets it; to run them alone, start s3rver (npm package s3rver 3.7.1, " +
            "--configure-bucket registry-tests) and set REGISTRY_TEST_S3_URL=http://127.0.0.1:<port>.");

    private ServiceProvider Build(Dictionary<string, string?> overrides, bool requireServer = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Registry:Storage:DataDirectory"] = _dataDirectory,
            ["Registry:Storage:S3:ServiceUrl"] = requireServer ? ServerUrl : "http://127.0.0.1:1",
            ["Registry:Storage:S3:BucketName"] = Bucket,
            ["Registry:Storage:S3:Prefix"] = _prefix,
            ["Registry:Storage:S3:AccessKey"] = Credential,
            ["Registry:Storage:S3:SecretKey"] = Credential,
            ["Registry:Storage:S3:ForcePathStyle"] = "true",
        };
        foreach (var (key, value) in overrides) settings[key] = value;
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging();
        services.AddRegistryData().AddRegistryS3Store();
        return services.BuildServiceProvider();
    }

    private static async Task RunChecksAsync(IServiceProvider services)
    {
        foreach (var check in services.GetServices<IStartupCheck>()) await check.RunAsync(CancellationToken.None);
    }

    private async Task<StagedArtifact> StageAsync(byte[] bytes)
    {
        var result = await Store.StageAsync(new MemoryStream(bytes), long.MaxValue, CancellationToken.None);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task<string> StageAndCommitAsync(byte[] bytes)
    {
        await using var staged = await StageAsync(bytes);
        return await Store.CommitAsync(staged, CancellationToken.None);
    }

    /// <summary>Every object key under this test's prefix (and <paramref name="under"/>), read from the bucket directly.</summary>
    private async Task<List<string>> ObjectKeysAsync(string under)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = _prefix + under };
        ListObjectsV2Response page;
        do
        {
            page = await Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        } while (page.IsTruncated == true);
        return keys;
    }

    /// <summary>
    /// Multipart uploads under this test's prefix that were neither completed nor aborted. s3rver cannot
    /// list them, so against it they are read from its folder (REGISTRY_TEST_S3_DIRECTORY, s3rver's
    /// --directory): one folder per upload under ._S3rver_uploads, holding the key it was started for.
    /// </summary>
    private async Task<List<string>> UnfinishedUploadsAsync()
    {
        try
        {
            var page = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = _prefix });
            return [.. (page.MultipartUploads ?? []).Select(u => u.Key)];
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NotImplemented")
        {
            var directory = Environment.GetEnvironmentVariable("REGISTRY_TEST_S3_DIRECTORY");
            Assert.True(!string.IsNullOrEmpty(directory),
                "This server cannot list multipart uploads: set REGISTRY_TEST_S3_DIRECTORY to s3rver's --directory so that the test can look for them there (./test.sh exports it with REGISTRY_TEST_S3_URL).");
            var uploads = Path.Combine(directory, Bucket, "._S3rver_uploads");
            if (!Directory.Exists(uploads)) return [];
            var keys = new List<string>();
            foreach (var upload in Directory.EnumerateDirectories(uploads))
            {
                var keyFile = Path.Combine(upload, "key");
                if (File.Exists(keyFile) && (await File.ReadAllTextAsync(keyFile)).StartsWith(_prefix, StringComparison.Ordinal))
                    keys.Add(await File.ReadAllTextAsync(keyFile));
            }
            return keys;
        }
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
