set terminal pngcairo size 720,420 noenhanced
set output 'init.png'
set title 'MNIST iterative, per-matrix against fused initialisation (6,400 training examples)'
set xlabel 'epoch'
set ylabel '-log p(x) (nats, IW)'
set key top right
set grid
plot 'init.dat' index 0 using 1:2 with linespoints title 'per-matrix-seed1', 'init.dat' index 1 using 1:2 with linespoints title 'fused-seed1', 'init.dat' index 2 using 1:2 with linespoints title 'per-matrix-seed2', 'init.dat' index 3 using 1:2 with linespoints title 'fused-seed2'
