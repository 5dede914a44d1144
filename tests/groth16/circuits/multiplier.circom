pragma circom 2.0.0;

// y = a·b·c + a with c public: two products, one output, one public input.
template Multiplier() {
    signal input a;
    signal input b;
    signal input c;
    signal output y;
    signal t;
    t <== a * b;
    y <== t * c + a;
}

component main {public [c]} = Multiplier();
