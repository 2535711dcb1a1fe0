// ---
// description: Allocates memory without bound, in a process of its own
// isolation: process
// timeout: 2m
// ---
await Step("hoard", ct =>
{
    var hoard = new List<byte[]>();
    while (true)
    {
        var block = new byte[16 * 1024 * 1024];
        Array.Fill(block, (byte)1);
        hoard.Add(block);
    }
});
