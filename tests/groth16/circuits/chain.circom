pragma circom 2.0.0;

// x_{i+1} = x_i·x_i + k over N steps: N constraints, sized for benchmarks (N is set per run).
template Chain(N) {
    signal input x;
    signal input k;
    signal output y;
    signal s[N + 1];
    s[0] <== x;
    for (var i = 0; i < N; i++) {
        s[i + 1] <== s[i] * s[i] + k;
    }
    y <== s[N];
}

component main {public [k]} = Chain(8);
